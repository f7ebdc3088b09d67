// `sinklab plan CONFIG`: every stage's estimated peak memory by kind and time, before anything
// runs (config.json and safetensors headers only); `sinklab run` prints the same table and
// refuses a plan over the memory budget (check_memory_plan).
#include <algorithm>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "experiments/cli/commands.h"
#include "experiments/cli/options.h"
#include "experiments/cli/plan_support.h"
#include "experiments/experiments.h"
#include "framework/runner/runner.h"
#include "framework/util/error.h"
#include "framework/util/log.h"
#include "framework/util/memory.h"
#include "framework/util/strings.h"
#include "framework/util/threads.h"

namespace sinklab::cli {

void add_memory_options(po::options_description& desc) {
  desc.add_options()
      ("memory-budget", po::value<double>(), "GiB a stage may use (default: what the machine has available now)")
      ("ignore-memory-budget", "run even when a stage's estimate exceeds the budget");
}

double memory_budget_bytes(const po::variables_map& vm) {
  const double gib = 1024.0 * 1024.0 * 1024.0;
  const double budget = vm.count("memory-budget") ? vm["memory-budget"].as<double>() * gib
                                                  : double(available_memory_bytes()) + double(anonymous_rss_bytes());
  SINKLAB_INPUT_CHECK(budget > 0, "--memory-budget must be positive");
  return budget;
}

std::string check_memory_plan(const Runner& runner, const po::variables_map& vm, c10::Device device, bool print) {
  const auto planned = runner.plan();
  const bool any = std::any_of(planned.begin(), planned.end(), [](const PlannedStage& s) { return s.cost.has_value(); });
  if (!any) return "";
  const double base = double(anonymous_rss_bytes()), budget = memory_budget_bytes(vm);
  const std::string table = plan_table(planned, base, device) + spilling(planned, base, budget);
  if (print) std::cout << table;
  else for (const auto& line : split(table, '\n')) if (!line.empty()) log::info("plan | {}", line);
  return over_budget(planned, base, budget);
}

int plan_command(const std::vector<std::string>& args) {
  po::options_description desc("sinklab plan options");
  desc.add_options()
      ("device", po::value<std::string>(), "cpu | cuda | cuda:N | auto (overrides the config's device)")
      ("threads", po::value<int>(), "CPU threads the time estimate assumes (overrides the config's; 0 = all cores)")
      ("json", "print the plan as JSON lines (one stage each: bytes by kind, flops, seconds) instead of the table");
  add_memory_options(desc);
  po::variables_map vm;
  const std::string usage =
      "usage: sinklab plan CONFIG [key.path=value ...] [options]\n\n"
      "Per stage, the estimated peak anonymous memory (weight copies, activations, hook sites, calibration,\n"
      "solver work, KV cache; the checkpoint's mapped pages apart) and the time from its matmul FLOPs at this\n"
      "machine's measured throughput. Reads config.json and the safetensors headers, not the weights.\n"
      "Exit 2 when a stage would exceed the memory budget.";
  if (!parse_command(args, desc, usage, vm)) return 0;
  std::vector<std::string> overrides = rest_arguments(vm);
  if (vm.count("device")) overrides.push_back("device=" + vm["device"].as<std::string>());
  if (vm.count("threads")) overrides.push_back("threads=" + std::to_string(vm["threads"].as<int>()));
  auto cfg = load_config<RunConfig>(first_argument(vm), overrides);
  const c10::Device device = resolve_device(cfg.value.device);
  configure_threads(cfg.value.threads);
  Runner runner(RunnerOptions{"", {}, device});
  auto experiments = add_experiment_stages(cfg.value, runner);
  std::vector<std::string> problems;
  for (const auto& e : experiments)
    for (auto& p : e->input_problems()) problems.push_back(std::move(p));
  SINKLAB_INPUT_CHECK(problems.empty(), "{}", join(problems, "\n"));
  if (vm.count("json")) {
    std::map<at::ScalarType, double> speed;
    const double base = double(anonymous_rss_bytes());
    for (const auto& s : runner.plan()) {
      nlohmann::ordered_json j{{"stage", s.name}};
      if (s.cost) {
        const StageCost& c = *s.cost;
        if (!speed.count(c.dtype)) speed[c.dtype] = matmul_flops_per_second(c.dtype, device);
        j.update({{"anonymous_bytes", base + c.anonymous()}, {"weights", c.weights}, {"activations", c.activations},
                  {"hooks", c.hooks}, {"calibration", c.calibration}, {"solver", c.solver}, {"kv_cache", c.kv_cache},
                  {"mapped", c.mapped}, {"flops", c.flops}, {"seconds", c.flops / speed[c.dtype]}});
      } else {
        j["note"] = s.note.empty() ? "small" : s.note;
      }
      std::cout << j.dump() << "\n";
    }
    return 0;
  }
  const std::string over = check_memory_plan(runner, vm, device, true);
  if (over.empty()) return 0;
  fmt::print(stderr, "sinklab: {}\n", over);
  return 2;
}

}  // namespace sinklab::cli
