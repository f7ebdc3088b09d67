// Crash safety and shared caches, with real processes: a run killed mid-stage resumes
// correctly, and two runs sharing a cache compute each entry once and corrupt nothing.
#include <signal.h>
#include <unistd.h>

#include "tests/support/catch.h"
#include <chrono>
#include <filesystem>
#include <thread>

#include "framework/io/atomic_file.h"
#include "framework/util/hash.h"
#include "framework/util/strings.h"
#include "tests/cli/cli_support.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using namespace sinklab;
using namespace sinklab::test;
namespace fs = std::filesystem;

namespace {

// A temporary file of the sweep stage: proof that the stage is running right now.
bool sweep_in_progress(const std::string& cache) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(cache + "/theorem41.sweep", ec))
    if (e.path().filename().string().find(".h5.tmp.") != std::string::npos) return true;
  return false;
}

int valid_manifests(const std::string& dir) {
  int n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".json") {
      auto m = read_json(e.path().string());
      std::string data = e.path().parent_path() / (e.path().stem().string() + ".h5");
      n += sha256_file(data) == m["sha256"].get<std::string>();
    }
  return n;
}

}  // namespace

TEST_CASE("a run killed mid-stage leaves nothing that looks valid and resumes correctly", "[cli][crash]") {
  TempDir dir;
  // Big enough that the sweep runs for a few seconds.
  auto config = dir.write("slow.yaml", tiny_config("slow", 4096, 40) + "  batch_size: 64\n");
  const std::string cache = dir / "cache", results = dir / "results";
  pid_t pid = start_process({sinklab_binary(), "run", config, "--results", results, "--cache", cache}, dir / "out1",
                            dir / "err1");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!sweep_in_progress(cache) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  REQUIRE(sweep_in_progress(cache));
  ::kill(pid, SIGKILL);
  CHECK(wait_process(pid) == 128 + SIGKILL);

  // The killed stage has no manifest; its predecessor's entry is complete; no run dir appeared.
  CHECK(valid_manifests(cache + "/theorem41.sequences") == 1);
  CHECK(valid_manifests(cache + "/theorem41.sweep") == 0);
  CHECK_FALSE(fs::exists(results + "/slow/latest"));

  auto resumed = sinklab::test::sinklab({"run", config, "--results", results, "--cache", cache});
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  auto prov = read_json(printed_path(resumed) + "/provenance.json");
  CHECK(prov["stages"][0]["name"] == "theorem41.sequences");
  CHECK(prov["stages"][0]["cached"] == true);   // finished before the kill: reused
  CHECK(prov["stages"][1]["cached"] == false);  // killed: recomputed
  CHECK_FALSE(sweep_in_progress(cache));        // the dead run's temporary is gone
  // The abandoned partial run directory of the killed process was cleaned up too.
  int partials = 0;
  for (const auto& e : fs::directory_iterator(results + "/slow"))
    partials += e.path().filename().string().find(".partial.") != std::string::npos;
  CHECK(partials == 0);
  CHECK(valid_manifests(cache + "/theorem41.sweep") == 1);
}

TEST_CASE("two runs sharing a cache compute each entry once and both succeed", "[cli][concurrency]") {
  TempDir dir;
  auto config = dir.write("shared.yaml", tiny_config("shared", 2048, 12) + "  batch_size: 64\n");
  const std::string cache = dir / "cache";
  pid_t a = start_process({sinklab_binary(), "run", config, "--out", dir / "runA", "--cache", cache}, dir / "outA",
                          dir / "errA");
  pid_t b = start_process({sinklab_binary(), "run", config, "--out", dir / "runB", "--cache", cache}, dir / "outB",
                          dir / "errB");
  CHECK(wait_process(a) == 0);
  CHECK(wait_process(b) == 0);
  auto pa = read_json(dir / "runA/provenance.json"), pb = read_json(dir / "runB/provenance.json");
  for (int i = 0; i < 3; ++i) {
    INFO(pa["stages"][i]["name"]);
    // Exactly one of the two computed it; the other waited for the lock and reused it.
    CHECK(pa["stages"][i]["cached"].get<bool>() != pb["stages"][i]["cached"].get<bool>());
    CHECK(pa["stages"][i]["key"] == pb["stages"][i]["key"]);
  }
  for (const char* stage : {"theorem41.sequences", "theorem41.sweep", "theorem41.example"})
    CHECK(valid_manifests(cache + "/" + stage) == 1);
}

// Run ids have one-second resolution: two runs of one config started together each claim their
// own directory before any work (issue 21, case 4), and an id claimed by a killed run is freed.
TEST_CASE("two runs of one config started in the same second both publish, under different ids", "[cli][concurrency]") {
  TempDir dir;
  auto config = dir.write("twin.yaml", tiny_config("twin", 512, 6));
  const std::string results = dir / "results";
  // A claim left by a process that no longer exists (started and waited for).
  pid_t gone = start_process({"/bin/true"}, dir / "o", dir / "e");
  wait_process(gone);
  const std::string stale = results + "/twin/20000101-000000-deadbeef";
  fs::create_directories(stale);
  dir.write("results/twin/20000101-000000-deadbeef/.claimed." + std::to_string(gone), "");
  pid_t a = start_process({sinklab_binary(), "run", config, "--results", results, "--cache", dir / "cache"}, dir / "outA",
                          dir / "errA");
  pid_t b = start_process({sinklab_binary(), "run", config, "--results", results, "--cache", dir / "cache"}, dir / "outB",
                          dir / "errB");
  CHECK(wait_process(a) == 0);
  CHECK(wait_process(b) == 0);
  INFO(read_file(dir / "errA") + read_file(dir / "errB"));
  const std::string run_a = read_file(dir / "outA").substr(0, read_file(dir / "outA").find('\n'));
  const std::string run_b = read_file(dir / "outB").substr(0, read_file(dir / "outB").find('\n'));
  CHECK(run_a != run_b);
  CHECK(fs::exists(run_a + "/provenance.json"));
  CHECK(fs::exists(run_b + "/provenance.json"));
  CHECK_FALSE(fs::exists(stale));
  for (const auto& e : fs::recursive_directory_iterator(results))
    CHECK(e.path().filename().string().rfind(".claimed.", 0) != 0);
}

// A full disk at any point of a run (a file-size limit: writes past it fail with EFBIG, as
// ENOSPC would): exit 2 with the reason, never a crash, and nothing half-written - no temporary
// file, partial run or claimed id - anywhere (issue 21, case 3).
TEST_CASE("a run that runs out of disk space exits 2 and leaves nothing half-written", "[cli][crash]") {
  TempDir dir;
  auto config = dir.write("full.yaml", tiny_config("full", 512, 6));
  for (int kib : {8, 64, 96, 128, 192, 256, 1024}) {  // entries, figures, run.h5, then enough
    INFO("file size limit " << kib << " KiB");
    const std::string results = dir / ("r" + std::to_string(kib));
    auto r = run_process({"/bin/bash", "-c", "ulimit -f " + std::to_string(kib) + "; trap '' XFSZ; exec \"$0\" run \"$1\" "
                          "--results \"$2\" -q", sinklab_binary(), config, results});
    INFO(r.err);
    CHECK((r.exit_code == 0 || r.exit_code == 2));
    if (r.exit_code == 2) CHECK_THAT(r.err, Catch::Contains("disk full?") || Catch::Contains("ulimit -f"));
    if (r.exit_code == 0) CHECK(fs::exists(results + "/full/latest/report.html"));
    for (const auto& e : fs::recursive_directory_iterator(results)) {
      const std::string name = e.path().filename().string();
      CHECK(name.find(".tmp.") == std::string::npos);
      CHECK(name.find(".partial.") == std::string::npos);
      CHECK(name.find(".claimed.") == std::string::npos);
    }
  }
}

// SIGTERM (Slurm, before SIGKILL) and SIGINT (Ctrl-C) mid-stage: the run removes its temporary
// cache entry, partial directory and claimed id itself and exits 143 / 130 (issue 21, case 9).
TEST_CASE("SIGTERM and SIGINT mid-stage clean up and exit 143 and 130", "[cli][crash]") {
  TempDir dir;
  auto config = dir.write("slow.yaml", tiny_config("slow", 4096, 40) + "  batch_size: 64\n");
  for (int sig : {SIGTERM, SIGINT}) {
    INFO("signal " << sig);
    const std::string cache = dir / ("cache" + std::to_string(sig)), results = dir / ("results" + std::to_string(sig));
    pid_t pid = start_process({sinklab_binary(), "run", config, "--results", results, "--cache", cache}, dir / "out",
                              dir / "err");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!sweep_in_progress(cache) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    REQUIRE(sweep_in_progress(cache));
    ::kill(pid, sig);
    CHECK(wait_process(pid) == 128 + sig);
    CHECK_THAT(read_file(dir / "err"), Catch::Contains("temporary files removed"));
    CHECK_FALSE(sweep_in_progress(cache));  // removed by the run itself, not by a later one
    CHECK(valid_manifests(cache + "/theorem41.sequences") == 1);
    std::vector<std::string> left;
    for (const auto& e : fs::recursive_directory_iterator(results + "/slow")) left.push_back(e.path().filename().string());
    INFO(join(left, ", "));
    CHECK(left.empty());  // no partial run, no claimed id
  }
}

// A sweep's parent passes SIGTERM on to its running points, which clean up and stop: nothing of
// theirs keeps running or half-written after the parent exits 143.
TEST_CASE("SIGTERM to a sweep stops its running points too", "[cli][crash]") {
  TempDir dir;
  auto config = dir.write("slow.yaml", tiny_config("slow", 4096, 40) + "  batch_size: 64\n");
  const std::string results = dir / "results";
  auto in_progress = [&] {
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(results, ec))
      if (e.path().filename().string().find(".h5.tmp.") != std::string::npos) return true;
    return false;
  };
  pid_t pid = start_process({sinklab_binary(), "sweep", config, "--grid", "seed=0,1", "--jobs", "2", "--threads", "1",
                             "--results", results}, dir / "out", dir / "err");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!in_progress() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(in_progress());
  ::kill(pid, SIGTERM);
  CHECK(wait_process(pid) == 128 + SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // a point still running would write on
  CHECK_FALSE(in_progress());
  for (const auto& e : fs::recursive_directory_iterator(results)) {
    const std::string name = e.path().filename().string();
    CHECK(name != "provenance.json");  // no point finished
    CHECK(name.find(".partial.") == std::string::npos);
  }
}
