#include "framework/sweep/sweep_grid.h"

#include <set>

#include "framework/util/error.h"
#include "framework/util/strings.h"

namespace sinklab {

std::vector<std::string> SweepPoint::overrides() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : assignments) out.push_back(k + "=" + v);
  return out;
}

std::string SweepPoint::label() const { return join(overrides(), ", "); }

SweepAxis parse_sweep_axis(const std::string& spec) {
  const auto eq = spec.find('=');
  SINKLAB_INPUT_CHECK(eq != std::string::npos && eq > 0, "--grid '{}' must look like key.path=v1,v2,...", spec);
  SweepAxis axis{trim(spec.substr(0, eq)), {}};
  std::string value;
  int depth = 0;
  char quote = 0;
  for (char c : spec.substr(eq + 1)) {
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      --depth;
    } else if (c == ',' && depth == 0) {
      axis.values.push_back(trim(value));
      value.clear();
      continue;
    }
    value += c;
  }
  axis.values.push_back(trim(value));
  for (const auto& v : axis.values)
    SINKLAB_INPUT_CHECK(!v.empty(), "--grid '{}' has an empty value", spec);
  return axis;
}

std::vector<SweepPoint> expand_sweep(const std::vector<SweepAxis>& grid, const std::vector<SweepAxis>& zipped) {
  SINKLAB_INPUT_CHECK(!grid.empty() || !zipped.empty(),
                      "the sweep has no axes: give --grid key=v1,v2 (or a `sweep: {{grid: {{key: [v1, v2]}}}}` section)");
  std::set<std::string> keys;
  for (const auto* axes : {&grid, &zipped})
    for (const auto& a : *axes) {
      SINKLAB_INPUT_CHECK(!a.values.empty(), "sweep axis '{}' has no values", a.key);
      SINKLAB_INPUT_CHECK(keys.insert(a.key).second, "sweep axis '{}' is given twice", a.key);
    }
  for (const auto& z : zipped)
    SINKLAB_INPUT_CHECK(z.values.size() == zipped.front().values.size(),
                        "zipped axes must have the same length: '{}' has {}, '{}' has {}", zipped.front().key,
                        zipped.front().values.size(), z.key, z.values.size());
  std::vector<SweepPoint> points{SweepPoint{}};
  for (const auto& axis : grid) {
    std::vector<SweepPoint> next;
    for (const auto& p : points)
      for (const auto& v : axis.values) {
        SweepPoint q = p;
        q.assignments.emplace_back(axis.key, v);
        next.push_back(std::move(q));
      }
    points = std::move(next);
  }
  if (!zipped.empty()) {
    std::vector<SweepPoint> next;
    for (const auto& p : points)
      for (std::size_t i = 0; i < zipped.front().values.size(); ++i) {
        SweepPoint q = p;
        for (const auto& z : zipped) q.assignments.emplace_back(z.key, z.values[i]);
        next.push_back(std::move(q));
      }
    points = std::move(next);
  }
  return points;
}

}  // namespace sinklab
