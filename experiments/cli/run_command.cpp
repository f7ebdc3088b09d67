// `sinklab run`: config -> stages (cached) -> run.h5, figures, summary and provenance.
#include <algorithm>
#include <chrono>
#include <filesystem>

#include "experiments/cli/commands.h"
#include "experiments/cli/options.h"
#include "experiments/cli/plan_support.h"
#include "experiments/experiments.h"
#include "framework/io/atomic_file.h"
#include "framework/report/run_report.h"
#include "framework/runner/provenance.h"
#include "framework/runner/publish.h"
#include "framework/runner/run_dir.h"
#include "framework/runner/runner.h"
#include "framework/util/error.h"
#include "framework/util/log.h"
#include "framework/util/strings.h"
#include "framework/util/system.h"
#include "framework/util/threads.h"

namespace fs = std::filesystem;

namespace sinklab::cli {

int run_command(const std::vector<std::string>& args, const std::vector<std::string>& full_command_line) {
  po::options_description desc("sinklab run options");
  desc.add_options()
      ("out,o", po::value<std::string>(), "write the run exactly to this directory (replaced if it exists)")
      ("results", po::value<std::string>()->default_value("results"), "results root: runs go to <results>/<name>/<run-id>")
      ("cache", po::value<std::string>(), "stage cache directory (default <results>/.cache)")
      ("force", po::value<std::vector<std::string>>()->composing(), "recompute STAGE (and what depends on it); 'all' for every stage; repeatable")
      ("device", po::value<std::string>(), "cpu | cuda | cuda:N | auto (overrides the config's device)")
      ("threads", po::value<int>(), "CPU threads (overrides the config's threads; 0 = all cores)")
      ("rehash", "hash every input file again instead of trusting the fingerprints the cache remembers");
  add_memory_options(desc);
  po::variables_map vm;
  const std::string usage = "usage: sinklab run CONFIG [key.path=value ...] [options]\n\n"
                            "Runs every stage of the experiments in CONFIG; stages whose inputs did not change are\n"
                            "reused from the cache. Overrides like theorem41.model.d=2 are checked like config keys.";
  if (!parse_command(args, desc, usage, vm)) return 0;
  apply_verbosity(vm);
  auto t0 = std::chrono::steady_clock::now();
  const std::string started = now_iso8601();

  std::vector<std::string> overrides = rest_arguments(vm);
  if (vm.count("device")) overrides.push_back("device=" + vm["device"].as<std::string>());
  if (vm.count("threads")) overrides.push_back("threads=" + std::to_string(vm["threads"].as<int>()));
  const std::string config_path = first_argument(vm);
  auto cfg = load_config<RunConfig>(config_path, overrides);

  const c10::Device device = resolve_device(cfg.value.device);
  const int threads = configure_threads(cfg.value.threads);
  const std::string results = vm["results"].as<std::string>();
  const std::string cache_dir = vm.count("cache") ? vm["cache"].as<std::string>() : (fs::path(results) / ".cache").string();
  ensure_writable_dir(cache_dir, "choose a writable cache with --cache DIR or --results DIR");

  RunnerOptions ropts;
  ropts.cache_dir = cache_dir;
  ropts.device = device;
  ropts.memory_budget = memory_budget_bytes(vm);
  if (vm.count("force")) ropts.force = vm["force"].as<std::vector<std::string>>();
  ropts.rehash = vm.count("rehash") > 0;
  Runner runner(ropts);
  auto experiments = add_experiment_stages(cfg.value, runner);
  runner.validate();  // bad --force names fail before any directory is made
  std::vector<std::string> problems;
  for (const auto& e : experiments)
    for (auto& p : e->input_problems()) problems.push_back(std::move(p));
  SINKLAB_INPUT_CHECK(problems.empty(), "{}", join(problems, "\n"));
  // The memory plan: printed to the log, and a stage over budget stops the run before it starts.
  const std::string over = check_memory_plan(runner, vm, device, false);
  if (!over.empty() && !vm.count("ignore-memory-budget")) throw InputError(over);
  if (!over.empty()) log::warn("{} (running anyway: --ignore-memory-budget)", over);

  std::optional<std::string> out_dir;
  if (vm.count("out")) out_dir = vm["out"].as<std::string>();
  RunDirectory dir(results, cfg.value.name, cfg.hash, out_dir);
  log::set_file(dir.file("run.log"));
  log::info("sinklab {} | config {} (hash {}) | device {} | {} threads", SINKLAB_VERSION, config_path,
            cfg.hash.substr(0, 12), device.str(), threads);
  std::vector<StageRecord> records;
  try {
    write_file_atomic(dir.file("config.resolved.yaml"),
                      "# resolved from " + config_path + "; config hash " + cfg.hash + "\n" + to_yaml(cfg.json));
    records = runner.run();
    ProvenanceInput pin;
    pin.command_line = full_command_line;
    pin.resolved_config = cfg.json;
    pin.config_hash = cfg.hash;
    pin.config_files = cfg.files;
    pin.started = started;
    pin.stages = records;
    pin.device = device.str();
    pin.threads = threads;
    pin.seed = cfg.value.seed;
    pin.finished = now_iso8601();
    pin.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    publish_run(dir, cfg.value.name, records, build_provenance(pin));
    log::set_file("");
    dir.finalize();
  } catch (...) {
    log::set_file("");
    throw;
  }

  // The report is derived from the finished directory; a failure to write it loses no result,
  // but the run did not finish what it was asked to: exit 2, saying how to finish it.
  try {
    report::write_report(dir.final_path());
  } catch (const std::exception& e) {
    throw InputError(fmt::format("the run is published at {}, but its report.html could not be written: {}; write it "
                                 "with: sinklab report {}", dir.final_path(), e.what(), dir.final_path()));
  }

  auto cached = std::count_if(records.begin(), records.end(), [](const StageRecord& r) { return r.cached; });
  log::info("done: {} stages ({} cached) in {:.2f}s -> {}", records.size(), cached,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), dir.final_path());
  fmt::print("{}\n", dir.final_path());
  return 0;
}

}  // namespace sinklab::cli
