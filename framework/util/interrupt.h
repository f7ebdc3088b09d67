#pragma once
// Clean exits on SIGINT (Ctrl-C) and SIGTERM (what Slurm sends before SIGKILL): the signals go to
// one thread (sigwait), which removes every temporary path registered right now - a run's
// partial directory, a stage's unfinished cache entry, an unpack's temporary tree - and exits
// 130 / 143. (SIGKILL cannot be caught: what it leaves, the next run removes.)
#include <sys/types.h>

#include <string>

namespace sinklab {

// Blocks SIGINT and SIGTERM in this thread and in every thread started after it (call it first
// in main, before any thread exists), and starts the thread that handles them.
void install_interrupt_cleanup();

// Registers `path` (a file or a directory, removed recursively) for removal on an interrupt while
// this object lives. Release it before the path becomes something to keep (renamed into place).
class RemoveOnInterrupt {
 public:
  explicit RemoveOnInterrupt(std::string path);
  ~RemoveOnInterrupt();
  RemoveOnInterrupt(const RemoveOnInterrupt&) = delete;
  RemoveOnInterrupt& operator=(const RemoveOnInterrupt&) = delete;

 private:
  std::string path_;
};

// Passes an interrupt on to child process `pid` (a sweep's point) while this object lives; the
// signal thread waits up to 10 s for it to clean up before it exits itself.
class SignalOnInterrupt {
 public:
  explicit SignalOnInterrupt(pid_t pid);
  ~SignalOnInterrupt();
  SignalOnInterrupt(const SignalOnInterrupt&) = delete;
  SignalOnInterrupt& operator=(const SignalOnInterrupt&) = delete;

 private:
  pid_t pid_;
};

}  // namespace sinklab
