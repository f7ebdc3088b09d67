#pragma once
// Facts about the machine and the process, for provenance and run ids.
#include <string>

namespace sinklab {

std::string host_name();
std::string cpu_model();          // from /proc/cpuinfo, "" if unknown
unsigned hardware_threads();      // logical CPUs usable by this process
std::string now_iso8601();        // local time with offset, e.g. 2026-11-22T20:31:05+0000
std::string now_compact();        // 20261122-203105, for run ids
// Runs a shell command, returns its stdout (trimmed) or "" when it fails.
std::string capture_command(const std::string& command);
// The git commit of the sinklab source tree and whether it has uncommitted changes.
struct GitState {
  std::string commit;  // "" when not a git checkout
  bool dirty = false;
};
GitState source_git_state();
// The sinklab checkout this binary was built from.
const char* source_dir();
// A data path from a config: absolute paths as they are; relative ones against the current
// directory, else against the sinklab checkout (so configs/... works from anywhere). When
// neither exists, the current-directory form is returned (for the error message).
std::string resolve_data_path(const std::string& path);

// Keeps freed tensor memory in the process heap instead of returning it to the kernel.
// glibc's defaults unmap every large free, and the next tensor page-faults it back in: on the
// Theorem 4.1 sweep that was 60% of the run time (19.3 s -> 2.6 s with this set), on a batch-8
// forward of tiny-phi3 80% (1.1k -> 5.7k tokens/s). Freed memory is reused, not returned.
void configure_memory_allocator();
// Gives the heap's free pages back to the kernel (malloc_trim) at a point where a stage or a
// pruned block has finished: what one stage freed is not held through the next, and a stage's
// measured peak is its own.
void release_free_heap();

}  // namespace sinklab
