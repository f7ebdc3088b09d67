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

struct ComparisonTables {
  std::vector<std::string> header;                      // key, A, B, ... (and B - A, ... for numbers)
  std::vector<std::vector<std::string>> config_rows;    // key, value per run ("(absent)")
  std::vector<std::vector<std::string>> number_rows;    // key, value per run, then each run minus the first
  std::size_t config_keys = 0, numbers = 0;             // how many there are in all
  std::size_t differing_config_keys = 0, differing_numbers = 0;
};

// Rows for the keys that differ between the runs, or for every key with `all`. Wall-clock and
// memory numbers (seconds, peak MiB) count as differing only with `all`: they always differ.
ComparisonTables compare_tables(const std::vector<ComparedRun>& runs, bool all);

// The page: sources, config differences, numbers (filterable, every number), figures side by side.
std::string compare_page(const std::vector<ComparedRun>& runs);

}  // namespace sinklab::report
