#include "experiments/cli/options.h"

#include <iostream>

#include "framework/util/error.h"
#include "framework/util/log.h"

namespace sinklab::cli {

namespace {
const char* const kFirst = "first-argument";
const char* const kRest = "more-arguments";
}  // namespace

bool parse_command(const std::vector<std::string>& args, po::options_description desc, const std::string& usage,
                   po::variables_map& vm, const Positionals& names) {
  desc.add_options()("help,h", "show this help")("quiet,q", "only warnings and errors")("verbose,v", "debug output");
  po::options_description hidden;
  hidden.add_options()(kFirst, po::value<std::string>())(kRest, po::value<std::vector<std::string>>());
  po::options_description all;
  all.add(desc).add(hidden);
  po::positional_options_description pos;
  pos.add(kFirst, 1).add(kRest, -1);
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << usage << "\n" << desc << "\n";
    return false;
  }
  const std::string usage_line = usage.substr(0, usage.find('\n'));
  SINKLAB_INPUT_CHECK(vm.count(kFirst), "missing {}; {}", names.first, usage_line);
  if (names.rest.empty() && vm.count(kRest))
    throw InputError(fmt::format("unexpected argument '{}' after {}; {}", vm[kRest].as<std::vector<std::string>>().front(),
                                 names.first, usage_line));
  return true;
}

std::string first_argument(const po::variables_map& vm) { return vm[kFirst].as<std::string>(); }

std::vector<std::string> rest_arguments(const po::variables_map& vm) {
  return vm.count(kRest) ? vm[kRest].as<std::vector<std::string>>() : std::vector<std::string>{};
}

void apply_verbosity(const po::variables_map& vm) {
  if (vm.count("quiet")) log::set_level(log::Level::quiet);
  if (vm.count("verbose")) log::set_level(log::Level::verbose);
}

}  // namespace sinklab::cli
