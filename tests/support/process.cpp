#include "tests/support/process.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tests/support/temp_dir.h"

namespace sinklab::test {

static pid_t spawn(const std::vector<std::string>& argv, const std::string& out_file, const std::string& err_file,
                   const std::vector<std::string>& env) {
  pid_t pid = fork();
  if (pid == 0) {
    int out = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    dup2(err, 2);
    for (const auto& e : env) putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

pid_t start_process(const std::vector<std::string>& argv, const std::string& out_file, const std::string& err_file) {
  return spawn(argv, out_file, err_file, {});
}

int wait_process(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

static std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ProcessResult run_process(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  TempDir dir;
  ProcessResult r;
  r.exit_code = wait_process(spawn(argv, dir / "out", dir / "err", env));
  r.out = slurp(dir / "out");
  r.err = slurp(dir / "err");
  return r;
}

std::string sinklab_binary() { return SINKLAB_BINARY; }

ProcessResult sinklab(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  std::vector<std::string> argv{SINKLAB_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, env);
}

}  // namespace sinklab::test
