#pragma once
// Running a sweep as a Slurm job array: one array task per grid point, each running
// `sinklab sweep point SWEEP_DIR $SLURM_ARRAY_TASK_ID` (which runs the point and writes its
// status file), with Slurm's own output per task in logs/slurm-<task>.out. The script is kept
// in the sweep directory (slurm/sweep.sbatch) so it can be read and resubmitted by hand.
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "framework/sweep/sweep_plan.h"

namespace sinklab {

struct SlurmOptions {
  std::string partition, time, account, mem;  // "" = the cluster's default
  int gpus = 0;                               // GPUs per task
  int max_parallel = 0;                       // array throttle (%N); 0 = no limit
  std::vector<std::string> extra;             // further sbatch options, e.g. --qos=short
  std::string sinklab;                        // the sinklab executable the tasks run
};

// Kept in sweep.json (backend_info.options) so `sinklab sweep resume` resubmits alike.
nlohmann::ordered_json slurm_options_json(const SlurmOptions& options);
SlurmOptions slurm_options_from_json(const nlohmann::json& j);

// The job-array script for these points of the plan.
std::string slurm_array_script(const SweepPlan& plan, const SlurmOptions& options, const std::vector<std::size_t>& indices);

// Writes slurm/sweep.sbatch (slurm/resume-<n>.sbatch for later submissions), submits it with
// sbatch and records the job id and options in the plan (saved). InputError when sbatch is
// missing or refuses the job (its message is included).
std::string submit_slurm_array(SweepPlan& plan, const SlurmOptions& options, const std::vector<std::size_t>& indices);

// Array task index -> Slurm state (PENDING, RUNNING, ...) of the tasks of these jobs still in
// the queue (a later job's state wins); nullopt when squeue cannot be asked (Slurm down or not
// installed).
std::optional<std::map<std::size_t, std::string>> slurm_queue_states(const std::vector<std::string>& job_ids);

}  // namespace sinklab
