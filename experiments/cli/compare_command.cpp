// `sinklab compare RUN_OR_ARCHIVE...`: runs side by side (see framework/report/compare_page.h),
// as terminal tables and one HTML page.
#include <fmt/format.h>

#include <algorithm>
#include <iostream>

#include "experiments/cli/commands.h"
#include "experiments/cli/options.h"
#include "experiments/cli/text_table.h"
#include "framework/io/atomic_file.h"
#include "framework/report/compare_page.h"
#include "framework/util/error.h"

namespace sinklab::cli {
namespace {

std::string label_of(std::size_t i) {
  return i < 26 ? std::string(1, char('A' + i)) : fmt::format("R{}", i + 1);
}

}  // namespace

int compare_command(const std::vector<std::string>& args) {
  const std::string usage =
      "usage: sinklab compare RUN_OR_ARCHIVE RUN_OR_ARCHIVE... [--all] [-o FILE.html]\n\n"
      "Two or more runs (run directories, sweep points, or run archives) side by side: the resolved config keys\n"
      "that differ, the summary numbers with each run's difference from the first, and the figures next to\n"
      "each other in one HTML page (default compare.html).";
  po::options_description desc("sinklab compare options");
  desc.add_options()("all", "list every config key and summary number, not only those that differ")(
      "output,o", po::value<std::string>()->default_value("compare.html"), "the HTML page to write");
  po::variables_map vm;
  if (!parse_command(args, desc, usage, vm, {"RUN_OR_ARCHIVE", "RUN_OR_ARCHIVE..."})) return 0;
  apply_verbosity(vm);
  std::vector<std::string> paths{first_argument(vm)};
  for (const auto& p : rest_arguments(vm)) paths.push_back(p);
  SINKLAB_INPUT_CHECK(paths.size() >= 2, "compare needs two or more runs; {}", usage.substr(0, usage.find('\n')));
  std::vector<report::ComparedRun> runs;
  for (std::size_t i = 0; i < paths.size(); ++i) runs.push_back(report::load_compared_run(paths[i], label_of(i)));

  const bool all = vm.count("all") > 0;
  const auto t = report::compare_tables(runs);
  const std::string page_path = vm["output"].as<std::string>();
  write_file_atomic(page_path, report::compare_page(runs, t));
  std::cout << page_path << "\n";
  for (const auto& r : runs) std::cout << r.label << ": " << r.source << "\n";
  const auto config_rows = t.config_shown(all), number_rows = t.numbers_shown(all);
  std::cout << fmt::format("config: {} of {} keys differ{}\n", report::ComparisonTables::count(t.config_differs),
                           t.config_rows.size(), all ? " (every key listed: --all)" : "");
  if (!config_rows.empty()) std::cout << text_table(t.config_header(), config_rows, "<", "  ");
  std::cout << fmt::format("summary.json: {} of {} numbers differ{}\n", report::ComparisonTables::count(t.number_differs),
                           t.number_rows.size(),
                           all ? " (every number listed: --all)" : " (wall-clock and memory figures aside; --all lists every number)");
  if (!number_rows.empty()) std::cout << text_table(t.header, number_rows, "<", "  ");
  return 0;
}

}  // namespace sinklab::cli
