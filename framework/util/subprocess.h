#pragma once
// Child processes without a shell: argv is passed as is, so paths and values with spaces or
// quotes need no escaping. Used by sweeps (points as `sinklab run` children, sbatch, squeue).
#include <sys/types.h>

#include <string>
#include <vector>

namespace sinklab {

// Starts argv (argv[0] is a path or a name looked up on PATH) with stdout and stderr appended
// to `log_path`; returns the child's pid. Throws when the program cannot be started.
pid_t spawn_logged(const std::vector<std::string>& argv, const std::string& log_path);

// Waits for any child: its pid and exit code (128 + signal when killed); pid -1 when none is left.
std::pair<pid_t, int> wait_any_child();
// Waits for this child: its exit code (128 + signal when killed).
int wait_child(pid_t pid);

struct CapturedRun {
  int exit_code = -1;   // 127 when the program could not be started
  std::string out, err;
};
// Runs argv to completion and captures stdout and stderr.
CapturedRun run_captured(const std::vector<std::string>& argv);

// The absolute path of `name` on PATH, or "" when it is not there.
std::string find_on_path(const std::string& name);

}  // namespace sinklab
