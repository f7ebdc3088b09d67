#include "framework/sweep/sweep_summary.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "framework/io/atomic_file.h"
#include "framework/io/hdf5_store.h"
#include "framework/io/json_numbers.h"
#include "framework/plot/figures.h"
#include "framework/util/error.h"
#include "framework/util/strings.h"

namespace fs = std::filesystem;

namespace sinklab {
namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// Run time, peak memory and per-stage seconds of one point, from its provenance.json.
void add_durations(const std::string& provenance_file, std::map<std::string, double>& out) {
  if (!fs::exists(provenance_file)) return;
  auto p = nlohmann::json::parse(read_file(provenance_file), nullptr, /*allow_exceptions=*/false);
  if (p.is_discarded()) return;
  if (p.contains("time") && p["time"].contains("seconds")) out["run.seconds"] = p["time"]["seconds"].get<double>();
  if (p.contains("peak_memory_mib") && p["peak_memory_mib"].is_number()) out["run.peak_memory_mib"] = p["peak_memory_mib"];
  if (!p.contains("stages")) return;
  int cached = 0;
  for (const auto& s : p["stages"]) {
    const auto name = s.value("name", "");
    out["stages." + name + ".seconds"] = s.value("seconds", 0.0);
    cached += s.value("cached", false) ? 1 : 0;
  }
  out["run.cached_stages"] = cached;
  out["run.stages"] = double(p["stages"].size());
}

double parse_number(const std::string& s, double fallback) {
  char* end = nullptr;
  double x = std::strtod(s.c_str(), &end);
  return end && end != s.c_str() && *end == 0 ? x : fallback;
}

void write_csv(const SweepPlan& plan, const SweepTable& t) {
  std::string csv = "point";
  for (const auto& a : plan.points.front().assignments) csv += "," + csv_field(a.first);
  csv += ",state,exit_code,seconds";
  for (const auto& c : t.columns) csv += "," + csv_field(c);
  csv += "\n";
  for (const auto& r : t.rows) {
    csv += std::to_string(r.index);
    for (const auto& a : plan.points[r.index].assignments) csv += "," + csv_field(a.second);
    csv += fmt::format(",{},{},{:.3f}", r.state, r.exit_code, r.seconds);
    for (const auto& c : t.columns) {
      auto it = r.metrics.find(c);
      csv += "," + (it == r.metrics.end() ? std::string() : fmt::format("{}", it->second));
    }
    csv += "\n";
  }
  write_file_atomic(plan.dir + "/summary.csv", csv);
}

void write_h5(const SweepPlan& plan, const SweepTable& t) {
  const std::string path = plan.dir + "/summary.h5";
  const std::string tmp = temporary_path_for(path);
  const auto n = std::int64_t(t.rows.size());
  try {
    Hdf5File h5(tmp, Hdf5File::Mode::create);
    auto column = [&](auto get) {
      auto x = at::empty({n}, at::kDouble);
      for (std::int64_t i = 0; i < n; ++i) x[i] = get(t.rows[std::size_t(i)]);
      return x;
    };
    h5.write("/point", column([](const SweepRow& r) { return double(r.index); }).to(at::kLong),
             {{"meaning", std::string("grid point index (the run is points/<index>)")}});
    h5.write("/exit_code", column([](const SweepRow& r) { return double(r.exit_code); }).to(at::kLong),
             {{"meaning", std::string("the point's exit code; -1 = not finished")}});
    h5.write("/seconds", column([](const SweepRow& r) { return r.seconds; }), {{"meaning", std::string("wall seconds")}});
    std::vector<std::string> states;
    for (const auto& r : t.rows) states.push_back(r.state);
    h5.write_strings("/state", states);
    h5.create_group("/axes");
    for (std::size_t a = 0; a < plan.points.front().assignments.size(); ++a) {
      std::vector<std::string> values;
      for (const auto& r : t.rows) values.push_back(plan.points[r.index].assignments[a].second);
      // Dotted keys are legal HDF5 names; '/' never occurs in a config key.
      h5.write_strings("/axes/" + plan.points.front().assignments[a].first, values,
                       {{"meaning", std::string("the value of this config key at each point (YAML text)")}});
    }
    h5.create_group("/metrics");
    for (const auto& c : t.columns)
      h5.write("/metrics/" + c, column([&](const SweepRow& r) {
                 auto it = r.metrics.find(c);
                 return it == r.metrics.end() ? NAN : it->second;
               }),
               {{"meaning", std::string("from the points' summary.json / provenance.json; NaN where a point has none")}});
    h5.set_attr("/", "config", plan.config);
    h5.set_attr("/", "backend", plan.backend);
  } catch (...) {
    fs::remove(tmp);
    throw;
  }
  commit_file(tmp, path);
}

void write_figures(const SweepPlan& plan, const SweepTable& t, const std::string& metric) {
  fs::create_directories(plan.dir + "/figures");
  auto value = [&](std::size_t i) {
    auto it = t.rows[i].metrics.find(metric);
    return it == t.rows[i].metrics.end() ? NAN : it->second;
  };
  if (plan.grid.size() == 2 && plan.zipped.empty()) {
    plot::Heatmap h;
    h.title = metric;
    h.y_label = plan.grid[0].key;
    h.x_label = plan.grid[1].key;
    h.colorbar_label = metric;
    h.annotate = true;
    h.cell = 64;
    h.rows = int(plan.grid[0].values.size());
    h.cols = int(plan.grid[1].values.size());
    h.row_labels = plan.grid[0].values;
    h.col_labels = plan.grid[1].values;
    for (std::size_t i = 0; i < t.rows.size(); ++i) h.values.push_back(value(i));
    if (t.count("ok") < t.rows.size()) h.note = fmt::format("{} of {} points have no result (grey)", t.rows.size() - t.count("ok"), t.rows.size());
    plot::render_heatmap(h, plan.dir + "/figures/sweep_heatmap");
  }
  // And lines: one along the last grid axis (or the zipped axes) per combination of the others.
  const auto& axis = plan.grid.empty() ? plan.zipped.front() : plan.grid.back();
  plot::LinePlot lp{metric + " along " + axis.key, axis.key, metric, false, false, {}};
  const std::size_t n = plan.grid.empty() ? plan.points.size() : axis.values.size();
  for (std::size_t start = 0; start < t.rows.size(); start += n) {
    plot::Series s;
    for (std::size_t j = 0; j < n && start + j < t.rows.size(); ++j) {
      s.x.push_back(parse_number(axis.values[j], double(j)));
      s.y.push_back(value(start + j));
    }
    std::vector<std::string> parts;
    for (const auto& [k, v] : plan.points[start].assignments)
      if (k != axis.key) parts.push_back(k + "=" + v);
    s.label = plan.grid.size() <= 1 ? metric : join(parts, ", ");
    lp.series.push_back(std::move(s));
  }
  // Positive values spanning more than 30x (perplexity, errors) read better on a log axis.
  double lo = INFINITY, hi = 0;
  for (const auto& s : lp.series)
    for (double y : s.y)
      if (std::isfinite(y)) lo = std::min(lo, y), hi = std::max(hi, y);
  lp.log_y = lo > 0 && hi / lo > 30;
  plot::render_line_plot(lp, plan.dir + "/figures/sweep_lines");
}

}  // namespace

std::size_t SweepTable::count(const std::string& state) const {
  return std::size_t(std::count_if(rows.begin(), rows.end(), [&](const SweepRow& r) { return r.state == state; }));
}

SweepTable collect_sweep_table(const SweepPlan& plan) {
  SweepTable t;
  std::set<std::string> columns;
  for (std::size_t i = 0; i < plan.points.size(); ++i) {
    SweepRow r;
    r.index = i;
    auto status = read_point_status(plan, i);
    r.state = !status ? "pending" : status->exit_code == 0 ? "ok" : "failed";
    if (status) r.exit_code = status->exit_code, r.seconds = status->seconds;
    const std::string summary = plan.run_dir(i) + "/summary.json";
    if (r.state == "ok" && fs::exists(summary)) {
      auto j = nlohmann::json::parse(read_file(summary), nullptr, false);
      if (!j.is_discarded()) r.metrics = json_numbers(j, /*booleans=*/true, 64);
      add_durations(plan.run_dir(i) + "/provenance.json", r.metrics);
    }
    for (const auto& [k, v] : r.metrics) columns.insert(k);
    t.rows.push_back(std::move(r));
  }
  t.columns.assign(columns.begin(), columns.end());
  return t;
}

void write_sweep_summary(const SweepPlan& plan, const SweepTable& table, const std::string& metric) {
  write_csv(plan, table);
  write_h5(plan, table);
  if (metric.empty() || table.count("ok") == 0) return;
  SINKLAB_INPUT_CHECK(std::find(table.columns.begin(), table.columns.end(), metric) != table.columns.end(),
                      "--metric '{}' is not in the points' summary.json{} (summary.csv lists every column)", metric,
                      did_you_mean(metric, table.columns));
  write_figures(plan, table, metric);
}

}  // namespace sinklab
