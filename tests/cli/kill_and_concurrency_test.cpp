// Crash safety and shared caches, with real processes: a run killed mid-stage resumes
// correctly, and two runs sharing a cache compute each entry once and corrupt nothing.
#include <signal.h>
#include <unistd.h>

#include "tests/support/catch.h"
#include <chrono>
#include <filesystem>
#include <thread>

#include "framework/util/hash.h"
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
