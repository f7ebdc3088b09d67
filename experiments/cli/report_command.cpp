// `sinklab report DIR [-o FILE]`: report.html for a run or sweep directory (see framework/report).
#include <fmt/format.h>

#include "experiments/cli/commands.h"
#include "experiments/cli/options.h"
#include "framework/report/run_report.h"

namespace sinklab::cli {

int report_command(const std::vector<std::string>& args) {
  po::options_description desc("sinklab report options");
  desc.add_options()("output,o", po::value<std::string>(), "write the page here (default DIR/report.html)");
  po::variables_map vm;
  const std::string usage =
      "usage: sinklab report RUN_OR_SWEEP_DIR [-o FILE]\n\n"
      "Writes one self-contained report.html (figures, interactive attention maps, metrics, provenance, config)\n"
      "that opens in a browser without a server. A sweep's report links a report per point.";
  if (!parse_command(args, desc, usage, vm, {"RUN_OR_SWEEP_DIR", ""})) return 0;
  apply_verbosity(vm);
  const auto out = report::write_report(first_argument(vm), vm.count("output") ? vm["output"].as<std::string>() : "");
  fmt::print("{}\n", out);
  return 0;
}

}  // namespace sinklab::cli
