#pragma once
// Shared command-line parsing helpers (Boost.Program_options).
#include <boost/program_options.hpp>
#include <string>
#include <vector>

namespace sinklab::cli {

namespace po = boost::program_options;

// Parses `args` with named options `desc` and the positional "config" + "overrides".
// Returns false when --help was asked (after printing `usage` and `desc`).
bool parse_command(const std::vector<std::string>& args, po::options_description desc, const std::string& usage,
                   po::variables_map& vm);

// --quiet / --verbose to the log level.
void apply_verbosity(const po::variables_map& vm);

}  // namespace sinklab::cli
