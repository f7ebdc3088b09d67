// `sinklab sweep`: every point of a grid as a normal run (own run directory and provenance)
// sharing one stage cache, so stages whose inputs a point does not change are computed once.
//   sinklab sweep CONFIG --grid a.b=v1,v2 ... [--backend local|slurm]   plan, run or submit
//   sinklab sweep status DIR [--wait]                                    follow the points
//   sinklab sweep collect DIR [--metric M]                               summary.csv/.h5, figures
//   sinklab sweep resume DIR                                             rerun failed / lost points
//   sinklab sweep point DIR INDEX                                        one point (a Slurm array task)
// The sweep directory's layout is in framework/sweep/sweep_plan.h.
#include <algorithm>
#include <chrono>
#include <filesystem>

#include "experiments/cli/commands.h"
#include "experiments/cli/options.h"
#include "experiments/cli/sweep_support.h"
#include "experiments/experiments.h"
#include "framework/io/atomic_file.h"
#include "framework/runner/runner.h"
#include "framework/sweep/local_backend.h"
#include "framework/sweep/slurm_backend.h"
#include "framework/sweep/sweep_grid.h"
#include "framework/sweep/sweep_plan.h"
#include "framework/util/error.h"
#include "framework/util/hash.h"
#include "framework/util/log.h"
#include "framework/util/strings.h"
#include "framework/util/subprocess.h"
#include "framework/util/system.h"

namespace fs = std::filesystem;

namespace sinklab::cli {
namespace {

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
      ("no-submit", "slurm: write slurm/sweep.sbatch but do not submit it");
  add_slurm_flags(desc);
  po::variables_map vm;
  const std::string usage =
      "usage: sinklab sweep CONFIG [key.path=value ...] --grid a.b=v1,v2 [--grid ...] [--zip ...] [--jobs N]\n"
      "                    [--backend local|slurm [--partition P --time T --gpus N ...]]\n"
      "       sinklab sweep status DIR [--wait]   sinklab sweep collect DIR [--metric M]   sinklab sweep resume DIR\n\n"
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

  const std::string config_path = fs::absolute(first_argument(vm)).string();
  const std::vector<std::string> base = rest_arguments(vm);
  auto cfg = load_config<RunConfig>(config_path, base);

  std::vector<SweepAxis> grid, zipped;
  if (cfg.value.sweep) {
    for (const auto& [k, v] : cfg.value.sweep->grid) grid.push_back({k, v});
    for (const auto& [k, v] : cfg.value.sweep->zip) zipped.push_back({k, v});
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
    SweepPointPlan p{points[i], {exe, "run", config_path}};
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
    apply_slurm_flags(vm, so);
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
  plan.backend_info["parallel"] = jobs;
  plan.backend_info["wall_seconds"] = wall;
  plan.save();
  const int code = collect_and_report(plan, plan.metric);
  fmt::print("{}\n", plan.dir);
  if (code == 0) log::info("sweep: {} points in {:.1f}s -> {}", points.size(), wall, plan.dir);
  return code;
}

}  // namespace

int sweep_command(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "status") return sweep_status_command({args.begin() + 1, args.end()});
  if (!args.empty() && args[0] == "collect") return sweep_collect_command({args.begin() + 1, args.end()});
  if (!args.empty() && args[0] == "resume") return sweep_resume_command({args.begin() + 1, args.end()});
  if (!args.empty() && args[0] == "point") return sweep_point_command({args.begin() + 1, args.end()});
  return start_sweep(args);
}

}  // namespace sinklab::cli
