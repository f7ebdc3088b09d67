#pragma once
// What the `sinklab sweep` subcommands share: the sinklab executable, the Slurm flags, point
// states (status files + the Slurm queue) and the collect step (tables, figures, report.html).
#include <string>
#include <vector>

#include "experiments/cli/options.h"
#include "framework/sweep/slurm_backend.h"
#include "framework/sweep/sweep_plan.h"

namespace sinklab::cli {

std::string self_executable();
std::vector<std::size_t> all_points(const SweepPlan& plan);

// summary.csv/.h5, figures and report.html; 0 when every point succeeded, else 1 (naming them).
int collect_and_report(const SweepPlan& plan, const std::string& metric);

void add_slurm_flags(po::options_description& desc);  // --partition --time --gpus --mem --account --sbatch-arg
// The flags given over `o` (a resumed sweep starts from the options it was submitted with).
void apply_slurm_flags(const po::variables_map& vm, SlurmOptions& o);
std::vector<std::string> slurm_job_ids(const SweepPlan& plan);  // every submission, oldest first

// One state per point: ok, failed, pending / running (in the Slurm queue), lost (left the queue
// without a status), unfinished (local, no status), unknown (Slurm cannot be asked).
struct PointStates {
  std::vector<std::string> state;
  bool queue_known = true;
};
PointStates point_states(const SweepPlan& plan);

int sweep_status_command(const std::vector<std::string>& args);
int sweep_collect_command(const std::vector<std::string>& args);
int sweep_resume_command(const std::vector<std::string>& args);
int sweep_point_command(const std::vector<std::string>& args);

}  // namespace sinklab::cli
