// `sinklab compare RUN_OR_ARCHIVE...`: runs side by side (see framework/report/compare_page.h),
// as terminal tables and one HTML page.
#include <fmt/format.h>

#include <algorithm>
#include <iostream>

#include "experiments/cli/commands.h"
#include "experiments/cli/options.h"
#include "framework/io/atomic_file.h"
#include "framework/report/compare_page.h"
#include "framework/util/error.h"

namespace sinklab::cli {
namespace {

void print_rows(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& r : rows) width[c] = std::max(width[c], std::min<std::size_t>(r[c].size(), c == 0 ? 70 : 40));
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out = "  ";
    for (std::size_t c = 0; c < cells.size(); ++c) out += fmt::format(c == 0 ? "{:<{}}  " : "{:>{}}  ", cells[c], width[c]);
    while (!out.empty() && out.back() == ' ') out.pop_back();
    std::cout << out << "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
}

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
  const auto t = report::compare_tables(runs, all);
  const std::string page_path = vm["output"].as<std::string>();
  write_file_atomic(page_path, report::compare_page(runs));
  std::cout << page_path << "\n";
  for (const auto& r : runs) std::cout << r.label << ": " << r.source << "\n";
  std::cout << fmt::format("config: {} of {} keys differ{}\n", t.differing_config_keys, t.config_keys,
                           all ? " (every key listed: --all)" : "");
  if (!t.config_rows.empty())
    print_rows({t.header.begin(), t.header.begin() + std::ptrdiff_t(runs.size() + 1)}, t.config_rows);
  std::cout << fmt::format("summary.json: {} of {} numbers differ{}\n", t.differing_numbers, t.numbers,
                           all ? " (every number listed: --all)" : " (wall-clock and memory figures aside; --all lists every number)");
  if (!t.number_rows.empty()) print_rows(t.header, t.number_rows);
  return 0;
}

}  // namespace sinklab::cli
