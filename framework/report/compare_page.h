#pragma once
// `sinklab compare`: two or more runs (run directories, sweep points, or run archives) side by
// side - the resolved config keys that differ, every summary.json number with its difference
// from the first run, and each figure next to its counterparts - as tables for the terminal and
// one self-contained HTML page (the report's style and self-check).
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace sinklab::report {

struct ComparedRun {
  std::string label;   // A, B, C, ...
  std::string source;  // the directory or archive it came from
  nlohmann::json config;   // provenance.json's resolved config
  nlohmann::json summary;  // summary.json
  std::map<std::string, std::string> figures;  // figures/<name>.png -> PNG bytes
};

// A run directory or a run's archive (verified first). InputError for anything else.
ComparedRun load_compared_run(const std::string& path, const std::string& label);

using Rows = std::vector<std::vector<std::string>>;

// A row per config key and per summary number of any run, and which of them differ. Wall-clock
// and memory numbers (seconds, peak MiB) never count as differing: they always do.
struct ComparisonTables {
  std::vector<std::string> header;  // key, A, B, ... then B - A, ... (numbers)
  Rows config_rows;                 // key, value per run ("(absent)")
  Rows number_rows;                 // key, value per run, then each run minus the first
  std::vector<bool> config_differs, number_differs;  // per row

  std::vector<std::string> config_header() const;  // key, A, B, ...
  // Every row with `all`, else those that differ.
  Rows config_shown(bool all) const { return shown(config_rows, config_differs, all); }
  Rows numbers_shown(bool all) const { return shown(number_rows, number_differs, all); }
  static std::size_t count(const std::vector<bool>& differs);

 private:
  static Rows shown(const Rows& rows, const std::vector<bool>& differs, bool all);
};

ComparisonTables compare_tables(const std::vector<ComparedRun>& runs);

// The page: sources, config differences, numbers (filterable, every number), figures side by side.
std::string compare_page(const std::vector<ComparedRun>& runs, const ComparisonTables& tables);

}  // namespace sinklab::report
