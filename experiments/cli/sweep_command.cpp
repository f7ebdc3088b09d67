// `sinklab sweep`: every point of a grid as a normal run (own run directory and provenance)
// sharing one stage cache, so stages whose inputs a point does not change are computed once.
//   sinklab sweep CONFIG --grid a.b=v1,v2 ... [--backend local|slurm]   plan, run or submit
//   sinklab sweep status DIR [--wait]                                    follow the points
//   sinklab sweep collect DIR [--metric M]                               summary.csv/.h5, figures
//   sinklab sweep point DIR INDEX                                        one point (a Slurm array task)
// The sweep directory's layout is in framework/sweep/sweep_plan.h.
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <thread>

#include "experiments/cli/commands.h"
#include "experiments/cli/options.h"
#include "experiments/experiment.h"
#include "framework/io/atomic_file.h"
#include "framework/report/run_report.h"
#include "framework/runner/runner.h"
#include "framework/sweep/local_backend.h"
#include "framework/sweep/slurm_backend.h"
#include "framework/sweep/sweep_grid.h"
#include "framework/sweep/sweep_plan.h"
#include "framework/sweep/sweep_summary.h"
#include "framework/util/error.h"
#include "framework/util/hash.h"
#include "framework/util/log.h"
#include "framework/util/strings.h"
#include "framework/util/subprocess.h"
#include "framework/util/system.h"

namespace fs = std::filesystem;

namespace sinklab::cli {
namespace {

std::string self_executable() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  SINKLAB_CHECK(!ec, "cannot find the sinklab executable: {}", ec.message());
  return p.string();
}

// The decoded `sweep:` section is a sorted map; the axes' order decides which is a heatmap's
// rows, so restore the order the config file wrote them in (axes it does not list stay last).
void in_written_order(const std::string& config_path, const char* section, std::vector<SweepAxis>& axes) {
  std::vector<std::string> order;
  try {
    YAML::Node node = YAML::LoadFile(config_path)["sweep"][section];
    if (node.IsMap())
      for (const auto& kv : node) order.push_back(kv.first.as<std::string>());
  } catch (const YAML::Exception&) {
    return;  // the config loaded already, so this is an include or an override: keep the order
  }
  auto rank = [&](const SweepAxis& a) { return std::size_t(std::find(order.begin(), order.end(), a.key) - order.begin()); };
  std::stable_sort(axes.begin(), axes.end(), [&](const SweepAxis& a, const SweepAxis& b) { return rank(a) < rank(b); });
}

std::vector<std::size_t> all_points(const SweepPlan& plan) {
  std::vector<std::size_t> v(plan.points.size());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = i;
  return v;
}

// summary.csv/.h5, figures and report.html; 0 when every point succeeded.
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

int start_sweep(const std::vector<std::string>& args) {
  po::options_description desc("sinklab sweep options");
  desc.add_options()
      ("grid", po::value<std::vector<std::string>>()->composing(), "an axis: key.path=v1,v2,... (repeatable)")
      ("zip", po::value<std::vector<std::string>>()->composing(), "an axis that advances with the other --zip axes")
      ("jobs,j", po::value<int>(), "points run in parallel (local: default 1; slurm: array throttle, default none)")
      ("results", po::value<std::string>()->default_value("results"), "results directory")
      ("cache", po::value<std::string>(), "stage cache (default RESULTS/.cache), shared by every point")
      ("no-shared-cache", "each point computes every stage itself (own cache, RESULTS/.cache/private/SWEEP/i)")
      ("threads", po::value<int>(), "CPU threads per point (local default: cores / jobs; slurm: 1 per task unless set)")
      ("metric", po::value<std::string>(), "dotted path into the points' summary.json to plot over the axes")
      ("backend", po::value<std::string>()->default_value("local"), "local | slurm")
      ("partition", po::value<std::string>(), "slurm: partition")
      ("time", po::value<std::string>(), "slurm: time limit per point, e.g. 02:00:00")
      ("gpus", po::value<int>(), "slurm: GPUs per point")
      ("mem", po::value<std::string>(), "slurm: memory per point, e.g. 32G")
      ("account", po::value<std::string>(), "slurm: account")
      ("sbatch-arg", po::value<std::vector<std::string>>()->composing(), "slurm: a further sbatch option, e.g. --qos=short")
      ("no-submit", "slurm: write slurm/sweep.sbatch but do not submit it");
  po::variables_map vm;
  const std::string usage =
      "usage: sinklab sweep CONFIG [key.path=value ...] --grid a.b=v1,v2 [--grid ...] [--zip ...] [--jobs N]\n"
      "                    [--backend local|slurm [--partition P --time T --gpus N ...]]\n"
      "       sinklab sweep status DIR [--wait]     sinklab sweep collect DIR [--metric M]\n\n"
      "Runs every point of the grid (the cartesian product of --grid axes and of the config's `sweep: {grid: ...}`\n"
      "section; --zip axes advance together) as its own run, sharing the stage cache.";
  if (!parse_command(args, desc, usage, vm)) return 0;
  apply_verbosity(vm);
  const std::string backend = vm["backend"].as<std::string>();
  SINKLAB_INPUT_CHECK(backend == "local" || backend == "slurm", "--backend '{}' is not one of local, slurm{}", backend,
                      did_you_mean(backend, {"local", "slurm"}));
  for (const char* opt : {"partition", "time", "gpus", "mem", "account", "sbatch-arg", "no-submit"})
    SINKLAB_INPUT_CHECK(backend == "slurm" || !vm.count(opt), "--{} is a Slurm option; add --backend slurm", opt);
  SINKLAB_INPUT_CHECK(!(vm.count("cache") && vm.count("no-shared-cache")), "--cache and --no-shared-cache exclude each other");

  const std::string config_path = fs::absolute(vm["config"].as<std::string>()).string();
  std::vector<std::string> base;
  if (vm.count("overrides")) base = vm["overrides"].as<std::vector<std::string>>();
  auto cfg = load_config<RunConfig>(config_path, base);

  std::vector<SweepAxis> grid, zipped;
  if (cfg.value.sweep) {
    for (const auto& [k, v] : cfg.value.sweep->grid) grid.push_back({k, v});
    for (const auto& [k, v] : cfg.value.sweep->zip) zipped.push_back({k, v});
    in_written_order(config_path, "grid", grid);
    in_written_order(config_path, "zip", zipped);
  }
  if (vm.count("grid"))
    for (const auto& g : vm["grid"].as<std::vector<std::string>>()) grid.push_back(parse_sweep_axis(g));
  if (vm.count("zip"))
    for (const auto& z : vm["zip"].as<std::vector<std::string>>()) zipped.push_back(parse_sweep_axis(z));
  const auto points = expand_sweep(grid, zipped);

  // Every point must be a valid config with its inputs present before any of them runs.
  std::vector<std::string> hashes;
  for (std::size_t i = 0; i < points.size(); ++i) {
    auto overrides = base;
    for (const auto& o : points[i].overrides()) overrides.push_back(o);
    try {
      auto point = load_config<RunConfig>(config_path, overrides);
      Runner runner(RunnerOptions{});
      auto experiments = add_experiment_stages(point.value, runner);
      runner.validate();
      for (const auto& e : experiments)
        for (const auto& p : e->input_problems()) throw InputError(p);
      hashes.push_back(point.hash);
    } catch (const InputError& e) {
      throw InputError(fmt::format("sweep point {} ({}) is not a valid run: {}", i, points[i].label(), e.what()));
    }
  }
  if (backend == "slurm")
    SINKLAB_INPUT_CHECK(vm.count("no-submit") || !find_on_path("sbatch").empty(),
                        "Slurm is not available here: no `sbatch` on PATH. Run the sweep with --backend local, write the "
                        "job script only with --no-submit, or install a Slurm client (Debian: slurm-client)");

  const int jobs = vm.count("jobs") ? std::max(1, vm["jobs"].as<int>()) : (backend == "local" ? 1 : 0);
  const std::string results = fs::absolute(vm["results"].as<std::string>()).string();
  SweepPlan plan;
  plan.dir = (fs::path(results) / cfg.value.name /
              ("sweep-" + now_compact() + "-" + sha256_hex(join(hashes, ",")).substr(0, 8))).string();
  plan.name = cfg.value.name;
  plan.config = config_path;
  plan.overrides = base;
  plan.working_directory = fs::current_path().string();
  plan.threads = vm.count("threads") ? vm["threads"].as<int>()
                 : backend == "local" ? int(std::max(1u, hardware_threads() / unsigned(jobs)))
                                      : 1;
  plan.cache = vm.count("no-shared-cache") ? ""
               : vm.count("cache")         ? fs::absolute(vm["cache"].as<std::string>()).string()
                                           : (fs::path(results) / ".cache").string();
  if (!plan.cache.empty()) ensure_writable_dir(plan.cache, "choose a writable cache with --cache DIR or --results DIR");
  plan.grid = grid;
  plan.zipped = zipped;
  plan.metric = vm.count("metric") ? vm["metric"].as<std::string>() : "";
  plan.backend = backend;
  const std::string exe = self_executable();
  for (std::size_t i = 0; i < points.size(); ++i) {
    SweepPointPlan p{points[i].assignments, {exe, "run", config_path}};
    for (const auto& o : base) p.command.push_back(o);
    for (const auto& o : points[i].overrides()) p.command.push_back(o);
    // Private caches live with the other caches, not in the sweep directory an archive packs.
    const std::string cache = plan.cache.empty()
                                  ? (fs::path(results) / ".cache" / "private" / fs::path(plan.dir).filename() / std::to_string(i)).string()
                                  : plan.cache;
    for (const auto& a : std::vector<std::string>{"--out", plan.run_dir(i), "--cache", cache, "--results", results,
                                                   "--threads", std::to_string(plan.threads)})
      p.command.push_back(a);
    plan.points.push_back(std::move(p));
  }
  fs::create_directories(fs::path(plan.dir) / "logs");
  plan.save();

  if (backend == "slurm") {
    SlurmOptions so;
    so.sinklab = exe;
    so.max_parallel = jobs;
    if (vm.count("partition")) so.partition = vm["partition"].as<std::string>();
    if (vm.count("time")) so.time = vm["time"].as<std::string>();
    if (vm.count("gpus")) so.gpus = vm["gpus"].as<int>();
    if (vm.count("mem")) so.mem = vm["mem"].as<std::string>();
    if (vm.count("account")) so.account = vm["account"].as<std::string>();
    if (vm.count("sbatch-arg")) so.extra = vm["sbatch-arg"].as<std::vector<std::string>>();
    if (vm.count("no-submit")) {
      fs::create_directories(plan.dir + "/slurm");
      write_file_atomic(plan.dir + "/slurm/sweep.sbatch", slurm_array_script(plan, so, all_points(plan)));
      log::info("sweep: {} points; job script {}/slurm/sweep.sbatch (not submitted: sbatch it yourself)", points.size(), plan.dir);
    } else {
      try {
        const auto job = submit_slurm_array(plan, so, all_points(plan));
        log::info("sweep: {} points submitted as Slurm job array {} -> {}\n  follow: sinklab sweep status {} --wait\n"
                  "  then:   sinklab sweep collect {}",
                  points.size(), job, plan.dir, plan.dir, plan.dir);
      } catch (...) {
        fs::remove_all(plan.dir);  // nothing was submitted: leave no sweep that looks pending
        throw;
      }
    }
    fmt::print("{}\n", plan.dir);
    return 0;
  }

  log::info("sweep: {} points, {} in parallel, {} threads each -> {}", points.size(), jobs, plan.threads, plan.dir);
  const auto t0 = std::chrono::steady_clock::now();
  run_points_locally(plan, all_points(plan), jobs);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  plan.backend_info["jobs"] = jobs;
  plan.backend_info["wall_seconds"] = wall;
  plan.save();
  const int code = collect_and_report(plan, plan.metric);
  fmt::print("{}\n", plan.dir);
  if (code == 0) log::info("sweep: {} points in {:.1f}s -> {}", points.size(), wall, plan.dir);
  return code;
}

// One line per state; the states of points without a status file come from the Slurm queue.
struct PointStates {
  std::vector<std::string> state;  // ok, failed, pending, running, lost, unfinished, unknown
  bool queue_known = true;
};

PointStates point_states(const SweepPlan& plan) {
  PointStates out;
  std::optional<std::map<std::size_t, std::string>> queue;
  if (plan.backend == "slurm" && plan.backend_info.contains("job_id"))
    queue = slurm_queue_states(plan.backend_info["job_id"].get<std::string>());
  out.queue_known = plan.backend != "slurm" || queue.has_value();
  for (std::size_t i = 0; i < plan.points.size(); ++i) {
    auto s = read_point_status(plan, i);
    if (s) {
      out.state.push_back(s->exit_code == 0 ? "ok" : "failed");
    } else if (plan.backend != "slurm" || !plan.backend_info.contains("job_id")) {
      out.state.push_back("unfinished");  // a local sweep still running, or one that was stopped
    } else if (!queue) {
      out.state.push_back("unknown");
    } else if (auto it = queue->find(i); it != queue->end()) {
      out.state.push_back(it->second == "RUNNING" || it->second == "COMPLETING" ? "running" : "pending");
    } else {
      // Finished without a status file: the task was killed (time limit, node failure, scancel).
      // Its status may also be about to appear: re-read once before calling it lost.
      out.state.push_back(read_point_status(plan, i) ? "ok" : "lost");
    }
  }
  return out;
}

int status_command(const std::vector<std::string>& args) {
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
  if (!parse_command(args, desc, usage, vm)) return 0;
  apply_verbosity(vm);
  const auto plan = SweepPlan::load(vm["config"].as<std::string>());
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
  if (plan.backend_info.contains("job_id")) backend += " job " + plan.backend_info["job_id"].get<std::string>();
  fmt::print("{}: {} points ({}): {}\n", plan.dir, plan.points.size(), backend, join(parts, ", "));
  for (std::size_t i = 0; i < plan.points.size(); ++i) {
    const auto& s = st.state[i];
    std::string where = s == "failed"  ? " - " + plan.log(i)
                        : s == "lost"  ? " - ended without a status: see " + plan.dir + "/logs/slurm-" + std::to_string(i) + ".out"
                                       : "";
    fmt::print("  {:>4}  {:<8} {}{}\n", i, s, plan.points[i].label(), where);
  }
  if (!st.queue_known) log::warn("sweep status: cannot ask Slurm about job {} (squeue failed); states shown as unknown",
                                 plan.backend_info.value("job_id", std::string()));
  const bool all_ok = counts["ok"] == int(plan.points.size());
  const bool any_bad = counts["failed"] + counts["lost"] > 0;
  return any_bad || (vm.count("wait") && !all_ok) ? 1 : 0;
}

int collect_command(const std::vector<std::string>& args) {
  po::options_description desc("sinklab sweep collect options");
  desc.add_options()("metric", po::value<std::string>(), "dotted path into the points' summary.json to plot (default: the sweep's)");
  po::variables_map vm;
  if (!parse_command(args, desc, "usage: sinklab sweep collect DIR [--metric M]", vm)) return 0;
  apply_verbosity(vm);
  auto plan = SweepPlan::load(vm["config"].as<std::string>());
  const int code = collect_and_report(plan, vm.count("metric") ? vm["metric"].as<std::string>() : plan.metric);
  fmt::print("{}/summary.csv\n", plan.dir);
  return code;
}

int point_command(const std::vector<std::string>& args) {
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

}  // namespace

int sweep_command(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "status") return status_command({args.begin() + 1, args.end()});
  if (!args.empty() && args[0] == "collect") return collect_command({args.begin() + 1, args.end()});
  if (!args.empty() && args[0] == "point") return point_command({args.begin() + 1, args.end()});
  return start_sweep(args);
}

}  // namespace sinklab::cli
