#include "framework/util/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "framework/util/error.h"
#include "framework/util/strings.h"

namespace sinklab {
namespace {

std::vector<char*> c_argv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const auto& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

int exit_code_of(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

// In a forked child before exec: sinklab blocks SIGINT and SIGTERM for its signal thread
// (interrupt.h), and a blocked mask survives exec - the child program must get its signals.
void unblock_signals() {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

}  // namespace

std::string find_on_path(const std::string& name) {
  if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = std::getenv("PATH");
  for (const auto& dir : split(path ? path : "/usr/bin:/bin", ':')) {
    if (dir.empty()) continue;
    auto candidate = (std::filesystem::path(dir) / name).string();
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

pid_t spawn_logged(const std::vector<std::string>& argv, const std::string& log_path) {
  SINKLAB_CHECK(!argv.empty(), "spawn_logged: empty argv");
  const std::string program = find_on_path(argv[0]);
  SINKLAB_INPUT_CHECK(!program.empty(), "cannot start '{}': not found or not executable", argv[0]);
  int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  SINKLAB_CHECK(log >= 0, "cannot open log '{}': {}", log_path, std::strerror(errno));
  auto args = c_argv(argv);
  pid_t pid = fork();
  if (pid == 0) {
    unblock_signals();
    dup2(log, 1);
    dup2(log, 2);
    execv(program.c_str(), args.data());
    _exit(127);
  }
  close(log);
  SINKLAB_CHECK(pid > 0, "fork failed: {}", std::strerror(errno));
  return pid;
}

std::pair<pid_t, int> wait_any_child() {
  int status = 0;
  pid_t pid;
  do pid = waitpid(-1, &status, 0);
  while (pid < 0 && errno == EINTR);
  return {pid, pid < 0 ? -1 : exit_code_of(status)};
}

int wait_child(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return exit_code_of(status);
}

CapturedRun run_captured(const std::vector<std::string>& argv) {
  CapturedRun r;
  const std::string program = argv.empty() ? "" : find_on_path(argv[0]);
  if (program.empty()) {
    r.exit_code = 127;
    r.err = (argv.empty() ? std::string("(no program)") : argv[0]) + ": not found on PATH";
    return r;
  }
  int out_pipe[2], err_pipe[2];
  SINKLAB_CHECK(pipe2(out_pipe, O_CLOEXEC) == 0 && pipe2(err_pipe, O_CLOEXEC) == 0, "pipe failed");
  auto args = c_argv(argv);
  pid_t pid = fork();
  if (pid == 0) {
    unblock_signals();
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    execv(program.c_str(), args.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  SINKLAB_CHECK(pid > 0, "fork failed: {}", std::strerror(errno));
  // Read both pipes together so a child filling one of them never blocks.
  std::array<pollfd, 2> fds{pollfd{out_pipe[0], POLLIN, 0}, pollfd{err_pipe[0], POLLIN, 0}};
  std::array<std::string*, 2> sinks{&r.out, &r.err};
  int open_fds = 2;
  std::array<char, 4096> buf;
  while (open_fds > 0) {
    if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) break;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buf.data(), buf.size());
      if (n > 0) {
        sinks[i]->append(buf.data(), std::size_t(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  r.exit_code = wait_child(pid);
  return r;
}

}  // namespace sinklab
