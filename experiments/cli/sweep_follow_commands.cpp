// `sinklab sweep status | collect | resume | point DIR`: following a sweep after it started
// (on a cluster, the job array runs on its own; these read and extend the sweep directory).
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "experiments/cli/sweep_support.h"
#include "framework/sweep/local_backend.h"
#include "framework/util/error.h"
#include "framework/util/log.h"
#include "framework/util/strings.h"

namespace fs = std::filesystem;

namespace sinklab::cli {

int sweep_status_command(const std::vector<std::string>& args) {
  po::options_description desc("sinklab sweep status options");
  desc.add_options()("wait", "wait until no point is pending or running")(
      "poll", po::value<double>()->default_value(2.0), "seconds between checks with --wait")(
      "timeout", po::value<double>()->default_value(0), "give up waiting after this many seconds (0 = never)");
  po::variables_map vm;
  const std::string usage =
      "usage: sinklab sweep status DIR [--wait [--timeout S]]\n\n"
      "One line per point: ok, failed (see its log), pending / running (in the Slurm queue), lost (left the\n"
      "queue without a status: killed by Slurm), unfinished (a local sweep still running or stopped).\n"
      "Exit code 1 when a point failed or was lost (with --wait: also when not every point is ok).";
  if (!parse_command(args, desc, usage, vm, {"DIR", ""})) return 0;
  apply_verbosity(vm);
  const auto plan = SweepPlan::load(first_argument(vm));
  const auto t0 = std::chrono::steady_clock::now();
  PointStates st;
  for (;;) {
    st = point_states(plan);
    bool active = std::any_of(st.state.begin(), st.state.end(), [](const auto& s) { return s == "pending" || s == "running"; });
    if (!vm.count("wait") || !active) break;
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double timeout = vm["timeout"].as<double>();
    if (timeout > 0 && waited > timeout) {
      log::warn("sweep status: still running after {:.0f}s", waited);
      break;
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(vm["poll"].as<double>()));
  }
  std::map<std::string, int> counts;
  for (const auto& s : st.state) ++counts[s];
  std::vector<std::string> parts;
  for (const auto& [s, n] : counts) parts.push_back(fmt::format("{} {}", n, s));
  std::string backend = plan.backend;
  if (!slurm_job_ids(plan).empty()) backend += " job " + join(slurm_job_ids(plan), ", ");
  fmt::print("{}: {} points ({}): {}\n", plan.dir, plan.points.size(), backend, join(parts, ", "));
  for (std::size_t i = 0; i < plan.points.size(); ++i) {
    const auto& s = st.state[i];
    std::string where = s == "failed"  ? " - " + plan.log(i)
                        : s == "lost"  ? " - left the queue without a status (cancelled, time limit, node failure); Slurm output if any: " + plan.dir + "/logs/slurm-" + std::to_string(i) + ".out"
                                       : "";
    fmt::print("  {:>4}  {:<8} {}{}\n", i, s, plan.points[i].label(), where);
  }
  if (!st.queue_known) log::warn("sweep status: cannot ask Slurm about job {} (squeue failed); states shown as unknown",
                                 join(slurm_job_ids(plan), ", "));
  const bool all_ok = counts["ok"] == int(plan.points.size());
  const bool any_bad = counts["failed"] + counts["lost"] > 0;
  return any_bad || (vm.count("wait") && !all_ok) ? 1 : 0;
}

int sweep_collect_command(const std::vector<std::string>& args) {
  po::options_description desc("sinklab sweep collect options");
  desc.add_options()("metric", po::value<std::string>(), "dotted path into the points' summary.json to plot (default: the sweep's)");
  po::variables_map vm;
  if (!parse_command(args, desc, "usage: sinklab sweep collect DIR [--metric M]", vm, {"DIR", ""})) return 0;
  apply_verbosity(vm);
  auto plan = SweepPlan::load(first_argument(vm));
  const int code = collect_and_report(plan, vm.count("metric") ? vm["metric"].as<std::string>() : plan.metric);
  fmt::print("{}/summary.csv\n", plan.dir);
  return code;
}

int sweep_resume_command(const std::vector<std::string>& args) {
  po::options_description desc("sinklab sweep resume options");
  desc.add_options()("jobs,j", po::value<int>(), "local: points in parallel (default 1); slurm: array throttle")(
      "backend", po::value<std::string>(), "local | slurm (default: the sweep's own; local reruns cluster points here)");
  add_slurm_flags(desc);
  po::variables_map vm;
  const std::string usage =
      "usage: sinklab sweep resume DIR [--jobs N] [slurm options]\n\n"
      "Runs again, in the same sweep directory, every point that failed, was lost or never finished, with the\n"
      "sweep's backend or --backend (Slurm: resubmitted with the options it was submitted with, unless given again).";
  if (!parse_command(args, desc, usage, vm, {"DIR", ""})) return 0;
  apply_verbosity(vm);
  auto plan = SweepPlan::load(first_argument(vm));
  const auto st = point_states(plan);
  std::vector<std::size_t> todo, active;
  for (std::size_t i = 0; i < st.state.size(); ++i) {
    const auto& s = st.state[i];
    if (s == "failed" || s == "lost" || s == "unfinished") todo.push_back(i);
    if (s == "pending" || s == "running" || s == "unknown") active.push_back(i);
  }
  SINKLAB_INPUT_CHECK(active.empty(), "{} points are still queued or running (or Slurm cannot be asked); wait with `sinklab sweep "
                      "status {} --wait` or cancel job {} (scancel) first", active.size(), plan.dir, join(slurm_job_ids(plan), ", "));
  if (todo.empty()) {
    log::info("sweep resume: every point of {} is ok; nothing to run", plan.dir);
    return collect_and_report(plan, plan.metric);
  }
  std::vector<std::string> which;
  for (auto i : todo) which.push_back(std::to_string(i));
  const std::string backend = vm.count("backend") ? vm["backend"].as<std::string>() : plan.backend;
  SINKLAB_INPUT_CHECK(backend == "local" || backend == "slurm", "--backend '{}' is not one of local, slurm", backend);
  if (backend == "slurm") {
    SlurmOptions so = slurm_options_from_json(plan.backend_info.value("options", nlohmann::json::object()));
    so.sinklab = self_executable();
    if (vm.count("jobs")) so.max_parallel = std::max(1, vm["jobs"].as<int>());
    apply_slurm_flags(vm, so);
    const auto job = submit_slurm_array(plan, so, todo);
    log::info("sweep resume: points {} resubmitted as Slurm job array {}; follow with sinklab sweep status {} --wait",
              join(which, ", "), job, plan.dir);
    fmt::print("{}\n", plan.dir);
    return 0;
  }
  for (const char* opt : {"partition", "time", "gpus", "mem", "account", "sbatch-arg"})
    SINKLAB_INPUT_CHECK(!vm.count(opt), "--{} is a Slurm option; this resume runs locally", opt);
  log::info("sweep resume: running points {} again", join(which, ", "));
  run_points_locally(plan, todo, vm.count("jobs") ? std::max(1, vm["jobs"].as<int>()) : 1);
  const int code = collect_and_report(plan, plan.metric);
  fmt::print("{}\n", plan.dir);
  return code;
}

int sweep_point_command(const std::vector<std::string>& args) {
  SINKLAB_INPUT_CHECK(args.size() == 2, "usage: sinklab sweep point DIR INDEX (what a Slurm array task runs)");
  auto plan = SweepPlan::load(args[0]);
  std::size_t index = 0;
  try {
    index = std::stoul(args[1]);
  } catch (const std::exception&) {
    throw InputError(fmt::format("sweep point index '{}' is not a number", args[1]));
  }
  if (!plan.working_directory.empty()) fs::current_path(plan.working_directory);  // relative paths in the config
  return run_sweep_point(plan, index);
}

}  // namespace sinklab::cli
