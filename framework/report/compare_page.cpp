#include "framework/report/compare_page.h"

#include <fmt/format.h>

#include <filesystem>
#include <set>

#include "framework/io/atomic_file.h"
#include "framework/io/json_numbers.h"
#include "framework/io/result_diff.h"
#include "framework/io/run_archive.h"
#include "framework/report/html.h"
#include "framework/util/error.h"
#include "framework/util/strings.h"

namespace fs = std::filesystem;

namespace sinklab::report {
namespace {

nlohmann::json parse_json(const std::string& text, const std::string& what) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  SINKLAB_INPUT_CHECK(!j.is_discarded(), "{} is not valid JSON", what);
  return j;
}

bool is_figure(const std::string& path) { return starts_with(path, "figures/") && ends_with(path, ".png"); }

std::string shown(const nlohmann::json* v) {
  if (!v) return "(absent)";
  return v->is_string() ? v->get<std::string>() : v->dump();
}

}  // namespace

ComparedRun load_compared_run(const std::string& path, const std::string& label) {
  ComparedRun run;
  run.label = label;
  run.source = path;
  std::map<std::string, std::string> files;
  if (fs::is_regular_file(path) && is_archive_name(path)) {
    auto problems = verify_archive(path);
    SINKLAB_INPUT_CHECK(problems.empty(), "{} failed verification: {}", path, problems.front());
    files = read_archive_files_if(path, [](const std::string& p) {
      return p == "summary.json" || p == "provenance.json" || p == "sweep.json" || is_figure(p);
    });
    SINKLAB_INPUT_CHECK(!files.count("sweep.json"), "{} is a sweep's archive: compare its points (unpack it, then "
                        "sinklab compare DIR/points/0 DIR/points/1 ...)", path);
  } else {
    SINKLAB_INPUT_CHECK(fs::is_directory(path), "'{}' is neither a run directory nor a run archive (.tar.gz, .tar.zst)", path);
    SINKLAB_INPUT_CHECK(!fs::exists(fs::path(path) / "sweep.json"),
                        "{} is a sweep: compare its points (sinklab compare {}/points/0 {}/points/1 ...)", path, path, path);
    for (const char* name : {"summary.json", "provenance.json"})
      if (fs::exists(fs::path(path) / name)) files[name] = read_file((fs::path(path) / name).string());
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(fs::path(path) / "figures", ec))
      if (e.is_regular_file() && e.path().extension() == ".png")
        files["figures/" + e.path().filename().string()] = read_file(e.path().string());
  }
  SINKLAB_INPUT_CHECK(files.count("summary.json") && files.count("provenance.json"),
                      "{} is not a finished run: it has no {} (a run directory or its archive has both)", path,
                      files.count("summary.json") ? "provenance.json" : "summary.json");
  run.summary = parse_json(files.at("summary.json"), path + ": summary.json");
  const auto provenance = parse_json(files.at("provenance.json"), path + ": provenance.json");
  run.config = provenance.contains("config") ? provenance["config"].value("resolved", nlohmann::json::object())
                                             : nlohmann::json::object();
  for (auto& [p, bytes] : files)
    if (is_figure(p)) run.figures[fs::path(p).filename().string()] = std::move(bytes);
  return run;
}

std::vector<std::string> ComparisonTables::config_header() const {
  return {header.begin(), header.begin() + std::ptrdiff_t((header.size() + 2) / 2)};  // key + one column per run
}

std::size_t ComparisonTables::count(const std::vector<bool>& differs) {
  return std::size_t(std::count(differs.begin(), differs.end(), true));
}

Rows ComparisonTables::shown(const Rows& rows, const std::vector<bool>& differs, bool all) {
  Rows out;
  for (std::size_t i = 0; i < rows.size(); ++i)
    if (all || differs[i]) out.push_back(rows[i]);
  return out;
}

ComparisonTables compare_tables(const std::vector<ComparedRun>& runs) {
  ComparisonTables t;
  t.header.push_back("key");
  for (const auto& r : runs) t.header.push_back(r.label);
  for (std::size_t i = 1; i < runs.size(); ++i) t.header.push_back(runs[i].label + " - " + runs[0].label);

  std::vector<std::map<std::string, nlohmann::json>> configs(runs.size()), summaries(runs.size());
  std::set<std::string> config_keys, number_keys;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    configs[i] = json_leaves(runs[i].config, /*expand_scalar_lists=*/false);
    summaries[i] = json_leaves(runs[i].summary);
    for (const auto& [k, v] : configs[i]) config_keys.insert(k);
    for (const auto& [k, v] : summaries[i])
      if (v.is_number()) number_keys.insert(k);
  }
  auto value_of = [](const std::map<std::string, nlohmann::json>& m, const std::string& k) -> const nlohmann::json* {
    auto it = m.find(k);
    return it == m.end() ? nullptr : &it->second;
  };
  for (const auto& k : config_keys) {
    std::vector<std::string> row{k};
    for (const auto& c : configs) row.push_back(shown(value_of(c, k)));
    t.config_differs.push_back(std::any_of(row.begin() + 2, row.end(), [&](const std::string& v) { return v != row[1]; }));
    t.config_rows.push_back(std::move(row));
  }
  for (const auto& k : number_keys) {
    std::vector<std::string> row{k};
    std::vector<const nlohmann::json*> values;
    for (const auto& s : summaries) {
      values.push_back(value_of(s, k));
      row.push_back(values.back() && values.back()->is_number() ? format_number(values.back()->get<double>())
                                                               : shown(values.back()));
    }
    bool differs = false;
    for (std::size_t i = 1; i < values.size(); ++i) {
      const bool both = values[0] && values[i] && values[0]->is_number() && values[i]->is_number();
      const double d = both ? values[i]->get<double>() - values[0]->get<double>() : 0.0;
      differs = differs || !both || d != 0.0;
      row.push_back(both ? format_number(d) : "");
    }
    t.number_differs.push_back(differs && !is_time_or_memory(k));
    t.number_rows.push_back(std::move(row));
  }
  return t;
}

std::string compare_page(const std::vector<ComparedRun>& runs, const ComparisonTables& t) {
  const std::size_t differing_keys = ComparisonTables::count(t.config_differs),
                    differing_numbers = ComparisonTables::count(t.number_differs);
  std::vector<std::string> labels;
  for (const auto& r : runs) labels.push_back(r.label);
  Page page("sinklab compare: " + join(labels, ", "),
            escape(fmt::format("{} runs; {} of {} config keys and {} of {} summary numbers differ", runs.size(),
                               differing_keys, t.config_rows.size(), differing_numbers, t.number_rows.size())));
  std::vector<std::vector<std::string>> sources;
  for (const auto& r : runs) sources.push_back({r.label, r.source});
  page.section("runs", "Runs", table({"run", "source"}, sources));
  page.section("config", "Config keys that differ",
               differing_keys == 0 ? "<p>The resolved configs are identical.</p>\n"
                                   : table(t.config_header(), t.config_shown(false), "config-table"));
  page.section("numbers", "Summary numbers",
               fmt::format("<p>{} numbers, {} of them differ (wall-clock and memory figures aside); every number is "
                           "listed, the last columns are each run minus {}.</p>\n",
                           t.number_rows.size(), differing_numbers, runs[0].label) +
                   table_filter("numbers-table", "filter keys") + table(t.header, t.number_rows, "numbers-table"));
  std::set<std::string> names;
  for (const auto& r : runs)
    for (const auto& [name, bytes] : r.figures) names.insert(name);
  std::string figures;
  for (const auto& name : names) {
    figures += fmt::format("<h3>{}</h3>\n<div class=\"figure-row\" style=\"display:grid;grid-template-columns:repeat({},1fr);gap:8px\">\n",
                           escape(name), runs.size());
    for (const auto& r : runs) {
      auto it = r.figures.find(name);
      figures += it == r.figures.end() ? fmt::format("<div><p>{}: (no such figure)</p></div>\n", escape(r.label))
                                       : "<div>" + png_figure_bytes(it->second, r.label + ": " + name) + "</div>\n";
    }
    figures += "</div>\n";
  }
  page.section("figures", "Figures side by side", names.empty() ? "<p>No figures.</p>\n" : figures);
  return page.render();
}

}  // namespace sinklab::report
