#pragma once
// A stage: one cached step of an experiment. It declares what it depends on - its name and
// version, the config subtree it reads, its upstream stages and input files - and those alone
// make its cache key (framework/runner/README.md). Changing anything else never invalidates it.
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "framework/io/hdf5_store.h"
#include "framework/runner/stage_cost.h"

namespace sinklab {

class StageContext {
 public:
  StageContext(Hdf5File& output, std::string artifact_dir, std::string resume_dir,
               std::map<std::string, std::string> upstream_entries, c10::Device device, double memory_budget = 0)
      : output_(output), artifact_dir_(std::move(artifact_dir)), resume_dir_(std::move(resume_dir)),
        upstream_entries_(std::move(upstream_entries)), device_(device), memory_budget_(memory_budget) {}
  // The stage's own HDF5 output (a temporary file until the stage finishes).
  Hdf5File& output() { return output_; }
  // A path to write an extra file (e.g. a checkpoint) that is committed with the entry.
  std::string artifact(const std::string& name);
  // The directory those files go to (created), for code that writes several files itself.
  std::string artifact_dir();
  // A directory (created) that outlives a killed or failed run of this entry, for a long stage's
  // finished parts (a pruned block): the next run continues from them. It is deleted when the
  // entry commits and before a forced run. Whatever a stage puts there it writes atomically and
  // checks when it reads it back.
  std::string resume_dir();
  // A finished upstream stage's output, opened read-only on first use.
  const Hdf5File& input(const std::string& stage);
  // A file an upstream stage wrote with artifact(name).
  std::string upstream_artifact(const std::string& stage, const std::string& name) const;
  c10::Device device() const { return device_; }
  // Bytes of anonymous memory the run allows a stage (0: no limit). A stage whose estimate
  // (cost()) exceeds it moves what it can (a calibration stream) to scratch files in the cache.
  double memory_budget() const { return memory_budget_; }
  // Where such scratch files go: the entry's resume directory (in the cache, so on its disk).
  std::string scratch_dir() { return resume_dir(); }
  // A context for running another stage with this one's upstream entries, device and budget,
  // writing to `output` and keeping its files under `dir` (an invariance check's rerun).
  StageContext rerun_context(Hdf5File& output, const std::string& dir) const {
    return StageContext(output, dir + "/artifacts", dir + "/resume", upstream_entries_, device_, memory_budget_);
  }

 private:
  Hdf5File& output_;
  std::string artifact_dir_;
  std::string resume_dir_;
  std::map<std::string, std::string> upstream_entries_;
  std::map<std::string, std::unique_ptr<Hdf5File>> opened_;
  c10::Device device_;
  double memory_budget_;
};

class Stage {
 public:
  virtual ~Stage() = default;
  virtual std::string name() const = 0;  // e.g. "theorem41.sweep"; also its group in run.h5
  // Bump when the computation changes, so old cache entries are not reused.
  virtual int version() const = 0;
  // Everything from the config that the computation reads (it is hashed into the key).
  virtual nlohmann::ordered_json reads() const = 0;
  virtual std::vector<std::string> upstream() const { return {}; }
  virtual std::vector<std::string> input_files() const { return {}; }
  // A report's artifacts are figures (published under figures/, its output holds the summary);
  // every other stage's artifacts are published under artifacts/<stage>/.
  virtual bool is_report() const { return false; }
  // Its estimated memory and work (stage_cost.h), from config.json and headers only; none for
  // stages too small to matter.
  virtual std::optional<StageCost> cost() const { return std::nullopt; }
  // Invariance checks (invariance_check.h): whether this stage's numbers should not depend on the
  // CPU thread count, and a copy of it that batches differently (`condition` says how, e.g.
  // "eval.batch_size 1 -> 4"), or null when it has no batch size.
  virtual bool checked_for_thread_invariance() const { return false; }
  virtual std::unique_ptr<Stage> rebatched(std::string& condition) const { return nullptr; }
  virtual void run(StageContext& context) const = 0;
};

}  // namespace sinklab
