#include "experiments/cli/options.h"

#include <iostream>

#include "framework/util/error.h"
#include "framework/util/log.h"

namespace sinklab::cli {

bool parse_command(const std::vector<std::string>& args, po::options_description desc, const std::string& usage,
                   po::variables_map& vm) {
  desc.add_options()("help,h", "show this help")("quiet,q", "only warnings and errors")("verbose,v", "debug output");
  po::options_description hidden;
  hidden.add_options()("config", po::value<std::string>())("overrides", po::value<std::vector<std::string>>());
  po::options_description all;
  all.add(desc).add(hidden);
  po::positional_options_description pos;
  pos.add("config", 1).add("overrides", -1);
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << usage << "\n" << desc << "\n";
    return false;
  }
  SINKLAB_INPUT_CHECK(vm.count("config"), "missing argument; usage: {}", usage.substr(0, usage.find('\n')));
  return true;
}

void apply_verbosity(const po::variables_map& vm) {
  if (vm.count("quiet")) log::set_level(log::Level::quiet);
  if (vm.count("verbose")) log::set_level(log::Level::verbose);
}

}  // namespace sinklab::cli
