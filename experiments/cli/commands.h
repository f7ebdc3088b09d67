#pragma once
// The `sinklab` subcommands. Each takes the arguments after its name and returns the exit code
// (0 ok; errors are thrown: InputError -> 2, anything else -> 1, mapped in main.cpp).
#include <string>
#include <vector>

namespace sinklab::cli {

int run_command(const std::vector<std::string>& args, const std::vector<std::string>& full_command_line);
int plan_command(const std::vector<std::string>& args);
int validate_command(const std::vector<std::string>& args);
int inspect_command(const std::vector<std::string>& args);
int model_command(const std::vector<std::string>& args);  // info | families | random
int model_random_command(const std::vector<std::string>& args);
int tokenize_command(const std::vector<std::string>& args);
int generate_command(const std::vector<std::string>& args);
int sweep_command(const std::vector<std::string>& args);
int archive_command(const std::vector<std::string>& args);
int report_command(const std::vector<std::string>& args);
int compare_command(const std::vector<std::string>& args);
int hooks_command(const std::vector<std::string>& args);

// DIR/tokenizer.json, or the path itself when it names a .json file; InputError if absent.
std::string tokenizer_json(const std::string& dir_or_file);

}  // namespace sinklab::cli
