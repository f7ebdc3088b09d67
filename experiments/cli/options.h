#pragma once
// Shared command-line parsing helpers (Boost.Program_options).
#include <boost/program_options.hpp>
#include <string>
#include <vector>

namespace sinklab::cli {

namespace po = boost::program_options;

// A command's positional arguments as its usage line names them: the first (required) and the
// rest ("" when the command takes no more).
struct Positionals {
  std::string first = "CONFIG";
  std::string rest = "key.path=value";
};

// Parses `args` with named options `desc` and the positionals `names`. Returns false when
// --help was asked (after printing `usage` and `desc`). A missing first argument or an extra
// one is an InputError that names it and shows the usage line.
bool parse_command(const std::vector<std::string>& args, po::options_description desc, const std::string& usage,
                   po::variables_map& vm, const Positionals& names = {});
// The first positional argument, and the others (empty when none were given).
std::string first_argument(const po::variables_map& vm);
std::vector<std::string> rest_arguments(const po::variables_map& vm);

// --quiet / --verbose to the log level.
void apply_verbosity(const po::variables_map& vm);

}  // namespace sinklab::cli
