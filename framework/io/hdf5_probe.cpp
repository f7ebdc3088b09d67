#include "framework/io/hdf5_probe.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "framework/io/hdf5_store.h"
#include "framework/util/error.h"

namespace sinklab {

namespace {

// What the child does: every dataset's values, every dataset's, group's and the root's attributes.
void read_everything(const std::string& path) {
  Hdf5File f(path, Hdf5File::Mode::read);
  f.attrs("/");
  for (const auto& d : f.datasets()) {
    if (d.dtype == "string") f.read_strings(d.path);
    else f.read(d.path);
    f.attrs(d.path);
    for (auto slash = d.path.rfind('/'); slash != std::string::npos && slash > 0; slash = d.path.rfind('/', slash - 1))
      f.attrs(d.path.substr(0, slash));
  }
}

}  // namespace

void check_hdf5_in_child(const std::string& path, double seconds) {
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(path, ec);
  SINKLAB_INPUT_CHECK(!ec, "cannot read '{}': {}", path, ec.message());
  if (seconds <= 0) seconds = 60.0 + double(bytes) / 20e6;
  int pipe_fds[2];
  SINKLAB_CHECK(::pipe(pipe_fds) == 0, "pipe: {}", std::strerror(errno));
  const pid_t pid = ::fork();
  SINKLAB_CHECK(pid >= 0, "fork: {}", std::strerror(errno));
  if (pid == 0) {
    // The child: only this thread exists here; it reports through the pipe and leaves with
    // _exit (no atexit handlers, no HDF5 shutdown of the parent's state).
    ::close(pipe_fds[0]);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // an interrupted parent takes its reader along
    // A crash ends the child by its signal, with no handler the parent installed (a test
    // framework's, a crash reporter's) running in its place.
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) ::signal(sig, SIG_DFL);
    int status = 0;
    std::string message;
    try {
      read_everything(path);
    } catch (const std::exception& e) {
      message = e.what();
      status = 3;
    }
    if (!message.empty()) {
      const ssize_t ignored = ::write(pipe_fds[1], message.data(), message.size());
      (void)ignored;
    }
    ::_exit(status);
  }
  ::close(pipe_fds[1]);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  int status = 0;
  bool finished = false;
  while (!finished) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      finished = true;
    } else if (done < 0 && errno != EINTR) {
      break;
    } else if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ::close(pipe_fds[0]);
      throw InputError(fmt::format("reading '{}' did not finish within {:.0f} s (HDF5 loops on some damaged or "
                                   "crafted files): it is not trusted; ask its author for an intact copy",
                                   path, seconds));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  std::string message;
  char buffer[4096];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) message.append(buffer, std::size_t(n));
  ::close(pipe_fds[0]);
  SINKLAB_CHECK(finished, "waitpid on the HDF5 reader of '{}': {}", path, std::strerror(errno));
  if (WIFSIGNALED(status))
    throw InputError(fmt::format("reading '{}' crashed the HDF5 library (signal {}, {}): the file is damaged or "
                                 "crafted and is not trusted; ask its author for an intact copy",
                                 path, WTERMSIG(status), strsignal(WTERMSIG(status))));
  SINKLAB_INPUT_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "'{}' is not a readable HDF5 file: {}", path,
                      message.empty() ? std::string("its reader failed") : message);
}

}  // namespace sinklab
