// sinklab: reproducible experiments on attention sinks, outlier features and pruning.
#include <c10/util/Exception.h>
#include <fmt/core.h>

#include <boost/program_options/errors.hpp>
#include <cstdio>

#include "experiments/cli/commands.h"
#include "framework/util/error.h"
#include "framework/util/interrupt.h"
#include "framework/util/strings.h"
#include "framework/util/system.h"

namespace {

const char* kUsage = R"(usage: sinklab <command> [options]

commands:
  run CONFIG [key.path=value ...]   run an experiment (stages are cached; see --help)
  plan CONFIG [key.path=value ...]  estimated memory and time of every stage, before running
  sweep CONFIG --grid a.b=v1,v2 ...  run every point of a grid (shared cache, --jobs N, --backend slurm)
  sweep status|collect SWEEP_DIR     follow a sweep; aggregate summary.csv/.h5 and figures
  report RUN_OR_SWEEP_DIR           one self-contained report.html (figures, attention, metrics)
  archive pack|verify|unpack|diff    one verifiable .tar.gz/.tar.zst of a run or sweep directory
  archive rerun FILE                run an archive again here and compare every number with it
  compare RUN_OR_ARCHIVE...         runs side by side: differing config keys, numbers, figures (HTML)
  validate CONFIG [key.path=value ...]
                                    check a config and print it fully resolved
  inspect RUN_DIR|FILE.h5           show provenance, stages and every tensor with its shape
  hooks                             every hook site: names, shapes and meanings
  model info DIR                    a HuggingFace checkpoint's family, architecture, sizes and files
  model families                    every model family sinklab loads and what it declares
  model random CONFIG_JSON OUT      a checkpoint with a config.json's shapes and random weights
  tokenize DIR TEXT                 token ids of TEXT with DIR/tokenizer.json
  generate DIR --prompt TEXT        greedy continuation of TEXT (--max-new N)

  sinklab <command> --help          options of one command
  sinklab --version

exit codes: 0 ok, 2 bad input (config, files, options), 1 internal failure
)";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> all(argv, argv + argc);
  std::vector<std::string> args(all.begin() + 1, all.end());
  sinklab::install_interrupt_cleanup();  // before any thread starts: they inherit the blocked signals
  sinklab::configure_memory_allocator();
  try {
    if (args.empty()) {
      std::fputs(kUsage, stderr);
      return 2;
    }
    const std::string cmd = args[0];
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (cmd == "--version") {
      fmt::print("sinklab {}\n", SINKLAB_VERSION);
      return 0;
    }
    if (cmd == "run") return sinklab::cli::run_command(rest, all);
    if (cmd == "plan") return sinklab::cli::plan_command(rest);
    if (cmd == "validate") return sinklab::cli::validate_command(rest);
    if (cmd == "sweep") return sinklab::cli::sweep_command(rest);
    if (cmd == "archive") return sinklab::cli::archive_command(rest);
    if (cmd == "report") return sinklab::cli::report_command(rest);
    if (cmd == "compare") return sinklab::cli::compare_command(rest);
    if (cmd == "inspect") return sinklab::cli::inspect_command(rest);
    if (cmd == "hooks") return sinklab::cli::hooks_command(rest);
    if (cmd == "tokenize") return sinklab::cli::tokenize_command(rest);
    if (cmd == "generate") return sinklab::cli::generate_command(rest);
    if (cmd == "model") return sinklab::cli::model_command(rest);  // info | families | --help
    throw sinklab::InputError(fmt::format("unknown command '{}'{}; run 'sinklab --help'", cmd,
                                          sinklab::did_you_mean(cmd, {"run", "plan", "sweep", "archive", "report", "compare", "validate", "inspect", "hooks", "model", "tokenize", "generate"})));
  } catch (const sinklab::Error& e) {
    fmt::print(stderr, "sinklab: error: {}\n", e.what());
    return e.exit_code();
  } catch (const boost::program_options::error& e) {
    fmt::print(stderr, "sinklab: error: {}; see 'sinklab {} --help'\n", e.what(), args.empty() ? "" : args[0]);
    return 2;
  } catch (const c10::Error& e) {
    fmt::print(stderr, "sinklab: internal error in LibTorch: {}\n", e.what_without_backtrace());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "sinklab: internal error: {}\n", e.what());
    return 1;
  }
}
