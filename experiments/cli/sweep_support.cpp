#include "experiments/cli/sweep_support.h"

#include <filesystem>

#include "framework/report/run_report.h"
#include "framework/sweep/sweep_summary.h"
#include "framework/util/error.h"
#include "framework/util/log.h"
#include "framework/util/strings.h"

namespace fs = std::filesystem;

namespace sinklab::cli {

std::string self_executable() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  SINKLAB_CHECK(!ec, "cannot find the sinklab executable: {}", ec.message());
  return p.string();
}

std::vector<std::size_t> all_points(const SweepPlan& plan) {
  std::vector<std::size_t> v(plan.points.size());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = i;
  return v;
}

int collect_and_report(const SweepPlan& plan, const std::string& metric) {
  auto table = collect_sweep_table(plan);
  try {
    write_sweep_summary(plan, table, metric);
  } catch (const InputError& e) {  // a mistyped --metric: keep the table and the report, name the fix
    report::write_report(plan.dir);
    throw InputError(fmt::format("{}\nThe points are kept; draw the figure with: sinklab sweep collect {} --metric KEY", e.what(), plan.dir));
  }
  report::write_report(plan.dir);
  std::vector<std::string> bad;
  for (const auto& r : table.rows)
    if (r.state != "ok")
      bad.push_back(fmt::format("{} ({}): {}{}", r.index, plan.points[r.index].label(), r.state,
                                r.state == "failed" ? " - see " + plan.log(r.index) : ""));
  if (!bad.empty()) {
    log::warn("sweep: {} of {} points have no result:\n  {}", bad.size(), table.rows.size(), join(bad, "\n  "));
    return 1;
  }
  return 0;
}

void apply_slurm_flags(const po::variables_map& vm, SlurmOptions& o) {
  if (vm.count("partition")) o.partition = vm["partition"].as<std::string>();
  if (vm.count("time")) o.time = vm["time"].as<std::string>();
  if (vm.count("gpus")) o.gpus = vm["gpus"].as<int>();
  if (vm.count("mem")) o.mem = vm["mem"].as<std::string>();
  if (vm.count("account")) o.account = vm["account"].as<std::string>();
  if (vm.count("sbatch-arg")) o.extra = vm["sbatch-arg"].as<std::vector<std::string>>();
}

void add_slurm_flags(po::options_description& desc) {
  desc.add_options()
      ("partition", po::value<std::string>(), "slurm: partition")
      ("time", po::value<std::string>(), "slurm: time limit per point, e.g. 02:00:00")
      ("gpus", po::value<int>(), "slurm: GPUs per point")
      ("mem", po::value<std::string>(), "slurm: memory per point, e.g. 32G")
      ("account", po::value<std::string>(), "slurm: account")
      ("sbatch-arg", po::value<std::vector<std::string>>()->composing(), "slurm: a further sbatch option, e.g. --qos=short");
}

std::vector<std::string> slurm_job_ids(const SweepPlan& plan) {
  std::vector<std::string> ids;
  if (plan.backend != "slurm" || !plan.backend_info.contains("jobs") || !plan.backend_info["jobs"].is_array()) return ids;
  for (const auto& j : plan.backend_info["jobs"]) ids.push_back(j.value("job_id", ""));
  return ids;
}

PointStates point_states(const SweepPlan& plan) {
  PointStates out;
  // The queue is asked before the status files are read: a task writes its status before it
  // leaves the queue, so a point in neither place really ended without one.
  const auto jobs = slurm_job_ids(plan);  // empty unless submitted to Slurm
  std::optional<std::map<std::size_t, std::string>> queue;
  if (!jobs.empty()) queue = slurm_queue_states(jobs);
  out.queue_known = jobs.empty() || queue.has_value();
  for (std::size_t i = 0; i < plan.points.size(); ++i) {
    if (auto s = read_point_status(plan, i)) {
      out.state.push_back(s->exit_code == 0 ? "ok" : "failed");
    } else if (jobs.empty()) {
      out.state.push_back("unfinished");  // a local sweep still running, or one that was stopped
    } else if (!queue) {
      out.state.push_back("unknown");
    } else if (auto it = queue->find(i); it != queue->end()) {
      out.state.push_back(it->second == "RUNNING" || it->second == "COMPLETING" ? "running" : "pending");
    } else {
      out.state.push_back("lost");  // killed by Slurm: time limit, node failure, scancel
    }
  }
  return out;
}

}  // namespace sinklab::cli
