#include "framework/report/run_report.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "framework/io/atomic_file.h"
#include "framework/report/attention_data.h"
#include "framework/report/html.h"
#include "framework/sweep/sweep_summary.h"
#include "framework/util/error.h"
#include "framework/util/strings.h"

namespace fs = std::filesystem;

namespace sinklab::report {
namespace {

nlohmann::json read_json_or_null(const fs::path& file) {
  if (!fs::exists(file)) return nullptr;
  auto j = nlohmann::json::parse(read_file(file.string()), nullptr, false);
  return j.is_discarded() ? nlohmann::json() : j;
}

std::string pre_file(const fs::path& file) {
  return fs::exists(file) ? "<pre>" + escape(read_file(file.string())) + "</pre>\n" : "<p class=\"muted\">(no " + escape(file.filename().string()) + ")</p>\n";
}

std::string cell_text(const nlohmann::json& v) {
  if (v.is_number()) return format_number(v.get<double>());
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_null()) return "null";
  return v.dump();
}

// Every leaf of a summary.json as (dotted path, shown value); short arrays of numbers inline,
// long ones as their size and range.
void flatten(const nlohmann::json& j, const std::string& prefix, std::vector<std::vector<std::string>>& rows) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), rows);
    return;
  }
  if (j.is_array()) {
    bool numbers = std::all_of(j.begin(), j.end(), [](const auto& x) { return x.is_number(); });
    bool scalars = std::all_of(j.begin(), j.end(), [](const auto& x) { return !x.is_structured(); });
    if (numbers && j.size() > 16) {
      double lo = j[0].get<double>(), hi = lo;
      for (const auto& x : j) lo = std::min(lo, x.get<double>()), hi = std::max(hi, x.get<double>());
      rows.push_back({prefix, fmt::format("[{} numbers, {} .. {}]", j.size(), format_number(lo), format_number(hi))});
    } else if (scalars) {
      std::vector<std::string> parts;
      for (const auto& x : j) parts.push_back(cell_text(x));
      rows.push_back({prefix, "[" + join(parts, ", ") + "]"});
    } else {
      for (std::size_t i = 0; i < j.size(); ++i) flatten(j[i], prefix + "." + std::to_string(i), rows);
    }
    return;
  }
  rows.push_back({prefix, cell_text(j)});
}

// PNG figures grouped by the part of their name before the first '_'.
std::string figures_html(const fs::path& dir) {
  if (!fs::is_directory(dir)) return "<p class=\"muted\">(no figures)</p>\n";
  std::map<std::string, std::vector<fs::path>> groups;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".png") groups[e.path().stem().string().substr(0, e.path().stem().string().find('_'))].push_back(e.path());
  if (groups.empty()) return "<p class=\"muted\">(no figures)</p>\n";
  std::string h;
  for (auto& [group, files] : groups) {
    std::sort(files.begin(), files.end());
    h += "<h3>" + escape(group) + "</h3><div class=\"figures\">\n";
    for (const auto& f : files) h += png_figure(f.string(), f.filename().string());
    h += "</div>\n";
  }
  return h;
}

std::string json_script_block(const std::string& id, const nlohmann::json& data) {
  std::string text = data.dump();
  // "</" inside a <script> element would end it early; "<\/" is the same JSON string.
  for (std::size_t pos = 0; (pos = text.find("</", pos)) != std::string::npos; pos += 3) text.replace(pos, 2, "<\\/");
  return fmt::format("<script type=\"application/json\" id=\"{}\">{}</script>\n", id, text);
}

std::string run_report(const fs::path& dir_in) {
  const fs::path dir = fs::canonical(dir_in);  // "latest" -> the run's own name
  const auto prov = read_json_or_null(dir / "provenance.json");
  const auto summary = read_json_or_null(dir / "summary.json");
  std::string name = summary.is_object() ? summary.value("name", dir.filename().string()) : dir.filename().string();
  std::string subtitle = escape(dir.filename().string());
  std::vector<std::vector<std::string>> overview;
  if (prov.is_object()) {
    auto get = [&](const nlohmann::json::json_pointer& p) { return prov.contains(p) ? cell_text(prov.at(p)) : std::string("-"); };
    overview = {{"config hash", get("/config/hash"_json_pointer)},
                {"started", get("/time/started"_json_pointer)},
                {"seconds", get("/time/seconds"_json_pointer)},
                {"sinklab", get("/sinklab_version"_json_pointer)},
                {"git commit", get("/git/commit"_json_pointer) + (prov.value("/git/dirty"_json_pointer, false) ? " (uncommitted changes)" : "")},
                {"host", get("/host/name"_json_pointer)},
                {"device", get("/device/selected"_json_pointer)},
                {"peak memory (MiB)", get("/peak_memory_mib"_json_pointer)}};
    subtitle = escape(fmt::format("run {} | config {} | {}", dir.filename().string(), get("/config/hash"_json_pointer).substr(0, 12),
                                  get("/time/started"_json_pointer)));
  }
  Page page("sinklab report: " + name, subtitle);
  std::string ov = table({"", ""}, overview);
  if (prov.is_object() && prov.contains("stages")) {
    std::vector<std::vector<std::string>> stages;
    for (const auto& s : prov["stages"])
      stages.push_back({s.value("name", ""), s.value("cached", false) ? "cached" : "computed", format_number(s.value("seconds", 0.0)),
                        format_number(s.value("compute_seconds", 0.0))});
    ov += "<h3>Stages</h3>" + table({"stage", "", "seconds", "compute seconds (when computed)"}, stages);
  }
  page.section("overview", "Overview", ov);
  if (prov.is_object() && prov.contains("checks")) {
    std::vector<std::vector<std::string>> rows;
    std::string warnings;
    for (const auto& c : prov["checks"]) {
      const bool ok = c.value("within_tolerance", false);
      rows.push_back({c.value("stage", ""), c.value("condition", ""), cell_text(c.value("max_relative_difference", nlohmann::json())),
                      c.value("worst_dataset", ""), ok ? "within tolerance" : "WARNING: beyond tolerance"});
      if (!ok)
        warnings += fmt::format("<p class=\"warning\"><strong>Warning:</strong> {} changes the numbers of {} (largest relative "
                                "difference {} in {}).</p>\n", escape(c.value("condition", "")), escape(c.value("stage", "")),
                                escape(cell_text(c.value("max_relative_difference", nlohmann::json()))),
                                escape(c.value("worst_dataset", "")));
    }
    page.section("checks", "Invariance checks",
                 warnings + table({"stage", "rerun with", "largest relative difference", "where", "verdict"}, rows));
  }
  if (fs::exists(dir / "run.h5")) {
    auto data = attention_view_data((dir / "run.h5").string());
    if (!data["maps"].empty()) {
      page.head_script(json_script_block("attention-data", data));
      page.section("attention", "Attention (interactive)",
                   "<div class=\"attention\"><div class=\"attention-controls\"></div><p class=\"attention-note muted\"></p>"
                   "<div class=\"attention-view\"><canvas></canvas><div><div class=\"attention-tooltip\"></div>"
                   "<div class=\"attention-tokens\"></div></div></div>"
                   "<p class=\"muted\">Hover a cell for its query, key and weight; hover a token to colour the text by "
                   "what it attends to. Rows are queries, columns keys (0-based positions).</p></div>\n");
    }
  }
  page.section("figures", "Figures", figures_html(dir / "figures"));
  if (summary.is_object()) {
    std::vector<std::vector<std::string>> rows;
    flatten(summary, "", rows);
    page.section("metrics", "Metrics (summary.json)",
                 table_filter("metrics-table", "filter, e.g. alpha or eval") + "<div class=\"scroll\">" +
                     table({"key", "value"}, rows, "metrics-table") + "</div>\n");
  }
  page.section("provenance", "Provenance", pre_file(dir / "provenance.json"));
  page.section("config", "Resolved config", pre_file(dir / "config.resolved.yaml"));
  return page.render();
}

std::string sweep_report(const fs::path& dir) {
  const auto plan = SweepPlan::load(dir.string());
  const auto table_data = collect_sweep_table(plan);
  Page page("sinklab sweep report: " + (plan.name.empty() ? dir.parent_path().filename().string() : plan.name),
            escape(fmt::format("{} | {} points | backend {}", dir.filename().string(), plan.points.size(), plan.backend)));
  std::vector<std::vector<std::string>> ov{{"config", plan.config},
                                           {"overrides", join(plan.overrides, " ")},
                                           {"points", fmt::format("{} ok, {} failed, {} without a result", table_data.count("ok"),
                                                                  table_data.count("failed"), table_data.count("pending"))}};
  for (const auto& a : plan.grid) ov.push_back({"grid axis " + a.key, join(a.values, ", ")});
  for (const auto& a : plan.zipped) ov.push_back({"zipped axis " + a.key, join(a.values, ", ")});
  for (auto it = plan.backend_info.begin(); it != plan.backend_info.end(); ++it) ov.push_back({it.key(), cell_text(it.value())});
  page.section("overview", "Overview", table({"", ""}, ov));
  page.section("figures", "Figures", figures_html(dir / "figures"));

  std::vector<std::string> header{"point", "report"};
  for (const auto& a : plan.points.front().assignments) header.push_back(a.first);
  for (const char* c : {"state", "seconds"}) header.push_back(c);
  for (const auto& c : table_data.columns) header.push_back(c);
  std::vector<std::vector<std::string>> rows;
  std::string links;
  for (const auto& r : table_data.rows) {
    std::vector<std::string> row{std::to_string(r.index)};
    const fs::path point_dir = plan.run_dir(r.index);
    // `sinklab run` wrote each point's report; render only the missing ones (older runs, or
    // an archive packed without them).
    const bool has_report = fs::exists(point_dir / "summary.json");
    if (has_report && !fs::exists(point_dir / "report.html"))
      write_file_atomic((point_dir / "report.html").string(), run_report(point_dir));
    row.push_back(has_report ? "points/" + std::to_string(r.index) + "/report.html" : "-");
    for (const auto& a : plan.points[r.index].assignments) row.push_back(a.second);
    row.push_back(r.state);
    row.push_back(format_number(r.seconds));
    for (const auto& c : table_data.columns) {
      auto it = r.metrics.find(c);
      row.push_back(it == r.metrics.end() ? "" : format_number(it->second));
    }
    if (has_report)
      links += fmt::format("<li><a href=\"points/{0}/report.html\">point {0}</a>: {1}</li>", r.index, escape(plan.points[r.index].label()));
    rows.push_back(std::move(row));
  }
  page.section("points", "Points",
               table_filter("points-table", "filter rows, e.g. failed") + "<div class=\"scroll\">" + table(header, rows, "points-table") +
                   "</div>\n<h3>Point reports</h3><ul>" + links + "</ul>\n");
  page.section("plan", "sweep.json", pre_file(dir / "sweep.json"));
  return page.render();
}

}  // namespace

std::string write_report(const std::string& dir_in, const std::string& output) {
  const fs::path dir = fs::absolute(dir_in).lexically_normal();
  SINKLAB_INPUT_CHECK(fs::is_directory(dir), "'{}' is not a directory; give a run or sweep directory (or unpack an archive first: "
                                             "sinklab archive unpack FILE DIR)", dir_in);
  std::string html;
  if (fs::exists(dir / "sweep.json"))
    html = sweep_report(dir);
  else if (fs::exists(dir / "summary.json") || fs::exists(dir / "provenance.json"))
    html = run_report(dir);
  else
    throw InputError(fmt::format("'{}' is neither a run directory (no summary.json or provenance.json) nor a sweep directory "
                                 "(no sweep.json)", dir_in));
  const std::string out = output.empty() ? (dir / "report.html").string() : output;
  write_file_atomic(out, html);
  return out;
}

}  // namespace sinklab::report
