#pragma once
// The run loop: orders stages by their upstream links, computes each cache key, and either
// reuses the cached entry or runs the stage into a temporary file and commits it.
#include <c10/core/Device.h>

#include <memory>
#include <set>
#include <map>
#include <string>
#include <vector>

#include "framework/runner/cache.h"
#include "framework/runner/stage.h"

namespace sinklab {

struct StageRecord {
  std::string name;
  int version = 0;
  std::string key;         // SHA-256 hex
  std::string entry;       // cache file holding its output
  std::string artifacts;   // directory of its extra files ("" when it wrote none)
  std::map<std::string, std::string> artifact_sha256;  // file name -> SHA-256, as its cache manifest records them
  bool cached = false;     // true when reused, false when computed in this run
  bool report = false;     // a report stage (Stage::is_report)
  double seconds = 0.0;    // time spent in this run (lookup or computation)
  double compute_seconds = 0.0;  // time the computation took when it ran
  double peak_anonymous_mib = 0.0;  // RssAnon high-water mark while it ran (cached: when it was computed)
  std::vector<std::pair<std::string, std::string>> input_files;  // (path, sha256)
};

struct RunnerOptions {
  std::string cache_dir;
  std::vector<std::string> force;  // stage names (or "all"); forcing a stage also reruns its downstream
  c10::Device device = c10::Device(c10::DeviceType::CPU);
  double memory_budget = 0;  // bytes a stage may use (StageContext::memory_budget; 0: no limit)
  bool rehash = false;       // hash every input file again (trust no remembered fingerprint)
};

class Runner {
 public:
  explicit Runner(RunnerOptions options);
  void add(std::unique_ptr<Stage> stage);
  std::vector<const Stage*> stages() const;  // in the order added
  // Checks names, upstream links, cycles and --force names without running anything.
  void validate() const;
  std::vector<std::string> stage_names() const;
  std::vector<StageRecord> run();

  // Every stage's estimated cost, in run order (reads no weights). Bad input an estimate finds
  // (a missing subject) is thrown; any other failure leaves a note saying why instead.
  std::vector<PlannedStage> plan() const;
  // The key a stage gets from its declaration and its upstream keys (exposed for tests).
  static std::string cache_key(const Stage& stage, const std::vector<std::string>& upstream_keys,
                               const std::vector<std::pair<std::string, std::string>>& file_hashes);

 private:
  std::vector<const Stage*> ordered() const;
  RunnerOptions options_;
  StageCache cache_;
  std::vector<std::unique_ptr<Stage>> stages_;
};

}  // namespace sinklab
