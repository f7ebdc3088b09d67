#include "framework/util/interrupt.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

namespace sinklab {
namespace {

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
std::multiset<std::string>& registry() {
  static std::multiset<std::string> paths;
  return paths;
}
std::multiset<pid_t>& children() {
  static std::multiset<pid_t> pids;
  return pids;
}

// Registration and release under the lock, so the signal thread never sees a set half-changed.
template <class T>
void register_one(std::multiset<T>& set, const T& value) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  set.insert(value);
}
template <class T>
void release_one(std::multiset<T>& set, const T& value) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  auto it = set.find(value);
  if (it != set.end()) set.erase(it);
}

void handle_signals(sigset_t set) {
  int sig = 0;
  if (sigwait(&set, &sig) != 0) return;
  {
    // Not a signal handler: an ordinary thread, so removing files here is safe. The lock stops
    // a path from being registered or released half-way.
    std::lock_guard<std::mutex> lock(registry_mutex());
    // Children first (they clean up after themselves), then our own temporaries.
    for (pid_t pid : children()) ::kill(pid, sig);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (pid_t pid : children())
      while (::waitpid(pid, nullptr, WNOHANG) == 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::error_code ec;
    for (const auto& path : registry()) std::filesystem::remove_all(path, ec);
  }
  const char* what = sig == SIGINT ? "sinklab: interrupted (SIGINT); temporary files removed\n"
                                   : "sinklab: terminated (SIGTERM); temporary files removed\n";
  ssize_t ignored = ::write(STDERR_FILENO, what, std::char_traits<char>::length(what));
  (void)ignored;
  ::_exit(128 + sig);
}

}  // namespace

void install_interrupt_cleanup() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread(handle_signals, set).detach();
}

SignalOnInterrupt::SignalOnInterrupt(pid_t pid) : pid_(pid) { register_one(children(), pid_); }
SignalOnInterrupt::~SignalOnInterrupt() { release_one(children(), pid_); }

RemoveOnInterrupt::RemoveOnInterrupt(std::string path) : path_(std::move(path)) { register_one(registry(), path_); }
RemoveOnInterrupt::~RemoveOnInterrupt() { release_one(registry(), path_); }

}  // namespace sinklab
