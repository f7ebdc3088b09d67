// `sinklab validate`: load and check a config without running anything.
#include <iostream>

#include "experiments/cli/commands.h"
#include "experiments/cli/options.h"
#include "experiments/experiments.h"
#include "framework/runner/runner.h"
#include "framework/util/log.h"

namespace sinklab::cli {

int validate_command(const std::vector<std::string>& args) {
  po::options_description desc("sinklab validate options");
  po::variables_map vm;
  const std::string usage = "usage: sinklab validate CONFIG [key.path=value ...]\n\n"
                            "Checks the config (keys, types, ranges, includes, ${ENV}) and prints it fully resolved\n"
                            "with its hash and the stages a run would execute.";
  if (!parse_command(args, desc, usage, vm)) return 0;
  apply_verbosity(vm);
  auto cfg = load_config<RunConfig>(first_argument(vm), rest_arguments(vm));
  Runner runner(RunnerOptions{});
  auto experiments = add_experiment_stages(cfg.value, runner);
  runner.validate();
  std::cout << to_yaml(cfg.json);
  std::cout << "# config hash: " << cfg.hash << "\n# stages: ";
  for (const auto& n : runner.stage_names()) std::cout << n << " ";
  std::cout << "\n# files: ";
  for (const auto& f : cfg.files) std::cout << f << " ";
  std::cout << "\n";
  // Absent inputs do not make the config invalid (it may be checked on a machine without the
  // checkpoint), but `sinklab run` will refuse to start: say so now.
  for (const auto& e : experiments)
    for (const auto& p : e->input_problems()) {
      std::cout << "# missing input: " << p << "\n";
      log::warn("missing input (sinklab run will stop here): {}", p);
    }
  return 0;
}

}  // namespace sinklab::cli
