#include "framework/io/result_diff.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fnmatch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "framework/io/hdf5_store.h"
#include "framework/io/json_numbers.h"
#include "framework/util/error.h"
#include "framework/util/strings.h"

namespace sinklab {
namespace {

bool is_float_dtype(const std::string& dtype) {
  return dtype == "float64" || dtype == "float32" || dtype == "bfloat16" || dtype == "float16" || dtype == "number";
}

// A summary leaf: integers stay integers (exact), floats are "number".
struct Leaf {
  std::string dtype;  // integer, number, bool, string
  double value = 0;
  std::string text;
};

std::map<std::string, Leaf> summary_leaves(const nlohmann::json& j) {
  std::map<std::string, Leaf> out;
  for (const auto& [path, v] : json_leaves(j)) {
    if (v.is_number_integer() || v.is_number_unsigned()) out[path] = {"integer", v.get<double>(), ""};
    else if (v.is_number_float()) out[path] = {"number", v.get<double>(), ""};
    else if (v.is_boolean()) out[path] = {"bool", v.get<bool>() ? 1.0 : 0.0, ""};
    else if (v.is_string()) out[path] = {"string", 0, v.get<std::string>()};
  }
  return out;
}

// Fills differing / max_abs / relative of `d` from two double tensors of one shape.
void measure(QuantityDiff& d, const at::Tensor& a, const at::Tensor& b) {
  d.elements = a.numel();
  if (d.elements == 0) return;
  auto nan_a = a.isnan(), nan_b = b.isnan();
  if (!at::equal(nan_a, nan_b)) {
    d.problem = fmt::format("NaN at {} places in the archive, {} in the rerun, not the same ones",
                            nan_a.sum().item<std::int64_t>(), nan_b.sum().item<std::int64_t>());
    d.differing = (nan_a != nan_b).sum().item<std::int64_t>();
    return;
  }
  auto fa = a.masked_fill(nan_a, 0.0), fb = b.masked_fill(nan_b, 0.0);
  auto same = fa.eq(fb);  // equal infinities count as equal
  d.differing = d.elements - same.sum().item<std::int64_t>();
  if (d.differing == 0) return;
  auto diff = (fa - fb).abs().masked_fill(same, 0.0);
  d.max_abs = diff.max().item<double>();
  if (!is_float_dtype(d.dtype)) {
    d.relative = double(d.differing) / double(d.elements);
    return;
  }
  const double scale = fa.abs().masked_fill(fa.isinf(), 0.0).max().item<double>();
  d.relative = std::isfinite(d.max_abs) ? d.max_abs / std::max(scale, std::numeric_limits<double>::min())
                                        : std::numeric_limits<double>::infinity();
}

// `text` with every actual-side path put back to the expected side's.
std::string renamed_back(std::string text, const Renamed& renamed) {
  for (const auto& [expected, actual] : renamed)
    for (std::size_t at = text.find(actual); !actual.empty() && at != std::string::npos; at = text.find(actual, at + expected.size()))
      text.replace(at, actual.size(), expected);
  return text;
}

QuantityDiff only_in_rerun(const std::string& name, const std::string& dtype) {
  QuantityDiff d;
  d.name = name;
  d.dtype = dtype;
  d.problem = "only in the rerun";
  return d;
}

// config_hash is the run's identity, not a result: it changes with any input path.
bool compared_summary_key(const std::string& path) { return !is_time_or_memory(path) && path != "config_hash"; }

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::vector<std::string> parts;
  for (auto s : shape) parts.push_back(std::to_string(s));
  return "[" + join(parts, ", ") + "]";
}

}  // namespace

Tolerances Tolerances::defaults(bool across_devices) {
  Tolerances t;
  if (across_devices) t.float64 = 1e-4, t.float32 = 1e-3, t.half = 5e-2, t.summary = 1e-3;
  return t;
}

double Tolerances::for_quantity(const std::string& name, const std::string& dtype) const {
  double tol = 0;
  if (dtype == "float64") tol = float64;
  else if (dtype == "float32") tol = float32;
  else if (dtype == "bfloat16" || dtype == "float16") tol = half;
  else if (dtype == "number") tol = summary;
  for (const auto& [glob, value] : overrides)
    if (fnmatch(glob.c_str(), name.c_str(), 0) == 0) tol = value;
  return tol;
}

void Tolerances::add_override(const std::string& spec) {
  const auto eq = spec.rfind('=');
  const std::string value = eq == std::string::npos ? spec : spec.substr(eq + 1);
  double v = 0;
  try {
    std::size_t used = 0;
    v = std::stod(value, &used);
    SINKLAB_INPUT_CHECK(used == value.size(), "");
  } catch (const std::exception&) {
    throw InputError(fmt::format("--tolerance '{}': expected GLOB=VALUE or VALUE with a number VALUE "
                                 "(e.g. 'summary.json:eval.*=1e-3' or '1e-3')", spec));
  }
  SINKLAB_INPUT_CHECK(v >= 0 && std::isfinite(v), "--tolerance '{}': the tolerance must be a finite number >= 0", spec);
  if (eq == std::string::npos) float64 = float32 = half = summary = v;
  else overrides.emplace_back(spec.substr(0, eq), v);
}

bool QuantityDiff::agrees() const { return problem.empty() && (differing == 0 || relative <= tolerance); }

double QuantityDiff::severity() const {
  if (!problem.empty()) return std::numeric_limits<double>::infinity();
  if (differing == 0) return 0;
  if (tolerance == 0) return std::numeric_limits<double>::infinity();
  return relative / tolerance;
}

bool is_time_or_memory(const std::string& name) {
  for (const auto& part : split(name, '.')) {
    const auto leaf = part.substr(part.rfind('/') == std::string::npos ? 0 : part.rfind('/') + 1);
    if (leaf.find("seconds") != std::string::npos || ends_with(leaf, "_mib") || leaf.find("peak_") != std::string::npos ||
        leaf.find("per_second") != std::string::npos)
      return true;
  }
  return false;
}

std::vector<QuantityDiff> diff_summaries(const nlohmann::json& expected, const nlohmann::json& actual,
                                         const Tolerances& tolerances, const Renamed& renamed) {
  const auto a = summary_leaves(expected), b = summary_leaves(actual);
  std::vector<QuantityDiff> out;
  for (const auto& [path, la] : a) {
    if (!compared_summary_key(path)) continue;
    QuantityDiff d;
    d.name = "summary.json:" + path;
    d.dtype = la.dtype;
    d.elements = 1;
    auto it = b.find(path);
    if (it == b.end()) {
      d.problem = "absent in the rerun";
    } else if (la.dtype == "string" || it->second.dtype == "string") {
      const std::string actual_text = renamed_back(it->second.text, renamed);
      d.differing = la.text != actual_text || la.dtype != it->second.dtype;
      d.relative = double(d.differing);
      if (d.differing) d.problem = fmt::format("'{}' vs '{}'", la.text, actual_text);
    } else {
      // An integer written as 2 on one side and 2.0 on the other is still one number.
      if (la.dtype != it->second.dtype && la.dtype != "bool") d.dtype = "number";
      measure(d, at::tensor({la.value}, at::kDouble), at::tensor({it->second.value}, at::kDouble));
    }
    d.tolerance = tolerances.for_quantity(d.name, d.dtype);
    out.push_back(std::move(d));
  }
  for (const auto& [path, lb] : b)
    if (!a.count(path) && compared_summary_key(path)) out.push_back(only_in_rerun("summary.json:" + path, lb.dtype));
  return out;
}

std::vector<QuantityDiff> diff_hdf5_files(const std::string& expected, const std::string& actual,
                                          const Tolerances& tolerances, const Renamed& renamed) {
  Hdf5File fa(expected, Hdf5File::Mode::read), fb(actual, Hdf5File::Mode::read);
  std::map<std::string, DatasetInfo> in_b;
  for (auto& info : fb.datasets()) in_b[info.path] = info;
  std::vector<QuantityDiff> out;
  std::set<std::string> seen;
  for (const auto& ia : fa.datasets()) {
    seen.insert(ia.path);
    if (is_time_or_memory(ia.path)) continue;
    QuantityDiff d;
    d.name = "run.h5:" + ia.path;
    d.dtype = ia.dtype;
    d.tolerance = tolerances.for_quantity(d.name, d.dtype);
    auto it = in_b.find(ia.path);
    if (it == in_b.end()) {
      d.problem = "absent in the rerun";
    } else if (it->second.shape != ia.shape || it->second.dtype != ia.dtype) {
      d.problem = fmt::format("{} {} in the archive, {} {} in the rerun", ia.dtype, shape_text(ia.shape),
                              it->second.dtype, shape_text(it->second.shape));
    } else if (ia.dtype == "string") {
      const auto sa = fa.read_strings(ia.path), sb = fb.read_strings(ia.path);
      d.elements = std::int64_t(sa.size());
      for (std::size_t i = 0; i < sa.size(); ++i) {
        // A JSON document (a report's summary) is compared as one: number by number, timings aside.
        const auto ja = nlohmann::json::parse(sa[i], nullptr, false), jb = nlohmann::json::parse(sb[i], nullptr, false);
        if (ja.is_object() && jb.is_object()) {
          for (const auto& leaf : diff_summaries(ja, jb, tolerances, renamed))
            if (!leaf.agrees()) {
              ++d.differing;
              if (d.problem.empty()) d.problem = fmt::format("its JSON differs at {}", leaf.name.substr(leaf.name.find(':') + 1));
              break;
            }
        } else {
          d.differing += sa[i] != renamed_back(sb[i], renamed);
        }
      }
      d.relative = d.elements ? double(d.differing) / double(d.elements) : 0.0;
    } else {
      measure(d, fa.read(ia.path).to(at::kDouble), fb.read(ia.path).to(at::kDouble));
    }
    out.push_back(std::move(d));
  }
  for (const auto& [path, info] : in_b)
    if (!seen.count(path) && !is_time_or_memory(path)) out.push_back(only_in_rerun("run.h5:" + path, info.dtype));
  return out;
}

void sort_by_severity(std::vector<QuantityDiff>& diffs) {
  std::stable_sort(diffs.begin(), diffs.end(), [](const QuantityDiff& a, const QuantityDiff& b) {
    const double sa = a.severity(), sb = b.severity();
    if (sa != sb) return sa > sb;
    return a.relative > b.relative;
  });
}

}  // namespace sinklab
