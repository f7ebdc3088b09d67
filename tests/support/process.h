#pragma once
// Runs the sinklab binary (or any program) as a child process, for end-to-end tests.
#include <sys/types.h>

#include <string>
#include <vector>

namespace sinklab::test {

struct ProcessResult {
  int exit_code = -1;
  std::string out, err;
};

// Runs argv[0] with argv, waits, returns exit code and captured output. `env` adds NAME=VALUE pairs.
ProcessResult run_process(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});
// Starts without waiting; output goes to the given files.
pid_t start_process(const std::vector<std::string>& argv, const std::string& out_file, const std::string& err_file);
int wait_process(pid_t pid);  // exit code, or 128 + signal

// The path of the built sinklab binary.
std::string sinklab_binary();
// The built sinklab binary with these arguments.
ProcessResult sinklab(const std::vector<std::string>& args, const std::vector<std::string>& env = {});

}  // namespace sinklab::test
