#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/catch.h"
#include <chrono>
#include <filesystem>
#include <thread>

#include "framework/io/atomic_file.h"
#include "framework/util/error.h"
#include "tests/support/temp_dir.h"

using namespace sinklab;
namespace fs = std::filesystem;

TEST_CASE("atomic writes replace the file and leave no temporaries", "[io]") {
  test::TempDir dir;
  std::string path = dir / "out.txt";
  write_file_atomic(path, "first");
  write_file_atomic(path, "second");
  CHECK(read_file(path) == "second");
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) files += 1, (void)e;
  CHECK(files == 1);
}

TEST_CASE("an output directory under a regular file is reported as unwritable", "[io]") {
  test::TempDir dir;
  auto file = dir.write("file.txt", "x");
  CHECK_THROWS_AS(ensure_writable_dir(file + "/sub", "try --out"), InputError);
  CHECK_NOTHROW(ensure_writable_dir(dir / "a/b/c", "try --out"));
}

TEST_CASE("a file lock held by another process makes the next locker wait", "[io]") {
  test::TempDir dir;
  std::string lock_path = dir / "entry.lock", marker = dir / "child-has-lock";
  pid_t child = fork();
  if (child == 0) {
    FileLock lock(lock_path);
    write_file_atomic(marker, "1");
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    _exit(0);
  }
  while (!fs::exists(marker)) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto t0 = std::chrono::steady_clock::now();
  {
    FileLock lock(lock_path);
    CHECK(lock.waited());
  }
  CHECK(std::chrono::steady_clock::now() - t0 > std::chrono::milliseconds(100));
  int status = 0;
  waitpid(child, &status, 0);
  FileLock again(lock_path);  // released by the kernel when the child exited
  CHECK_FALSE(again.waited());
}
