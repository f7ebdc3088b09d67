// `sinklab sweep` (local and Slurm script) and `sinklab archive` end to end.
#include "tests/support/catch.h"
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

#include "framework/io/atomic_file.h"
#include "framework/util/system.h"
#include "tests/cli/cli_support.h"
#include "tests/support/browser.h"
#include "tests/support/process.h"
#include "tests/support/skip.h"
#include "tests/support/temp_dir.h"

using namespace sinklab;
using namespace sinklab::test;
using Catch::Contains;
namespace fs = std::filesystem;

TEST_CASE("a sweep runs every grid point as a run sharing the cache; a rerun is fully cached; bad grids are "
          "rejected before any point runs", "[cli][sweep]") {
  TempDir dir;
  auto config = dir.write("tiny.yaml", tiny_config("sw"));
  const std::vector<std::string> common{"--results", dir / "results", "--jobs", "2", "--threads", "1", "-q"};
  auto sweep = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"sweep", config});
    args.insert(args.end(), common.begin(), common.end());
    return sinklab::test::sinklab(args);
  };
  auto first = sweep({"--grid", "theorem41.model.d=1,2", "--grid", "seed=0,1", "--metric", "theorem41.error_mean"});
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  const std::string out = printed_path(first);
  CHECK(fs::exists(out + "/figures/sweep_heatmap.png"));
  CHECK(fs::exists(out + "/figures/sweep_lines.png"));
  std::ifstream csv(out + "/summary.csv");
  std::string header, line;
  std::getline(csv, header);
  CHECK_THAT(header, Contains("point,theorem41.model.d,seed,state,exit_code,seconds") && Contains("theorem41.error_mean") &&
                         Contains("run.seconds") && Contains("stages.theorem41.sweep.seconds"));
  int rows = 0;
  while (std::getline(csv, line)) rows += line.find(",ok,0,") != std::string::npos;
  CHECK(rows == 4);
  auto meta = read_json(out + "/sweep.json");
  REQUIRE(meta["points"].size() == 4);
  CHECK(meta["points"][3]["assignments"]["seed"] == "1");
  // summary.h5: the same table, one dataset per column; each metric equals the point's own summary.json.
  auto h5 = sinklab::test::run_process({"/usr/bin/h5dump", "-d", "/metrics/theorem41.error_mean", "-d", "/axes/seed", out + "/summary.h5"});
  if (h5.exit_code == 127) {
    sinklab::test::skipped("h5dump not installed: summary.h5 checked for existence only (apt-get install hdf5-tools)");
    CHECK(fs::exists(out + "/summary.h5"));
  } else {
    auto point3 = read_json(out + "/points/3/summary.json")["theorem41"]["error_mean"].get<double>();
    CHECK_THAT(h5.out, Contains("\"1\"") && Contains(fmt::format("{:.6g}", point3).substr(0, 6)));
  }
  // report.html: the sweep's (heatmap, table, links) and one per point.
  CHECK(fs::exists(out + "/points/3/report.html"));
  if (auto page = load_in_chromium(out + "/report.html")) {
    INFO(page->browser_log.substr(0, 2000));
    CHECK(page->html_attributes["data-report-status"] == "ok");
    CHECK(page->html_attributes["data-figures-loaded"] == "2");
    CHECK_THAT(page->dom, Contains("points/3/report.html") && Contains("4 ok, 0 failed"));
  } else {
    sinklab::test::skipped("no chromium: the sweep report was not loaded in a browser (apt-get install chromium)");
  }
  auto status = sinklab::test::sinklab({"sweep", "status", out});
  CHECK(status.exit_code == 0);
  CHECK_THAT(status.out, Contains("4 points (local): 4 ok"));
  // collect again with another metric: a line plot needs no rerun.
  auto collect = sinklab::test::sinklab({"sweep", "collect", out, "--metric", "theorem41.catch_mass_mean", "-q"});
  CHECK(collect.exit_code == 0);
  auto bad_metric = sinklab::test::sinklab({"sweep", "collect", out, "--metric", "theorem41.eror_mean"});
  CHECK(bad_metric.exit_code == 2);
  CHECK_THAT(bad_metric.err, Contains("did you mean 'theorem41.error_mean'"));
  // The same sweep again: every point's stages come from the shared cache.
  auto again = sweep({"--grid", "theorem41.model.d=1,2", "--grid", "seed=0,1"});
  REQUIRE(again.exit_code == 0);
  const std::string out2 = printed_path(again);
  for (int i = 0; i < 4; ++i) {
    auto prov = read_json(out2 + "/points/" + std::to_string(i) + "/provenance.json");
    CHECK(count_cached(prov) == int(prov["stages"].size()));
  }
  // Archives of the two sweeps: the same numbers point by point; a run is not compared with a sweep.
  for (const auto& [d, f] : {std::pair{out, "s1.tar.gz"}, std::pair{out2, "s2.tar.gz"}})
    REQUIRE(sinklab::test::sinklab({"archive", "pack", d, "-o", dir / f, "--no-tensors", "-q"}).exit_code == 0);
  auto same = sinklab::test::sinklab({"archive", "diff", dir / "s1.tar.gz", dir / "s2.tar.gz"});
  CHECK(same.exit_code == 0);
  CHECK_THAT(same.out, Contains("sweep (axes, overrides):\n  identical") &&
                           Contains("points (A -> B), matched by their axis values:\n  identical"));
  // Unpacked elsewhere, the sweep re-renders its report (and each point's) from the files alone.
  REQUIRE(sinklab::test::sinklab({"archive", "unpack", dir / "s1.tar.gz", dir / "s1"}).exit_code == 0);
  fs::remove(dir / "s1/report.html");
  fs::remove(dir / "s1/points/2/report.html");
  REQUIRE(sinklab::test::sinklab({"report", dir / "s1"}).exit_code == 0);
  CHECK_THAT(read_file(dir / "s1/report.html"), Contains("points/2/report.html") && Contains("data:image/png;base64,"));
  CHECK(fs::exists(dir / "s1/points/2/report.html"));
  REQUIRE(sinklab::test::sinklab({"archive", "pack", out + "/points/0", "-o", dir / "p0.tar.gz", "-q"}).exit_code == 0);
  auto mixed = sinklab::test::sinklab({"archive", "diff", dir / "s1.tar.gz", dir / "p0.tar.gz"});
  CHECK(mixed.exit_code == 2);
  CHECK_THAT(mixed.err, Contains("is a sweep and") && Contains("a run"));
  // Bad grids: nothing runs, nothing is written.
  auto rejected = [&](const std::vector<std::string>& args, const std::string& message) {
    TempDir other;
    std::vector<std::string> full{"sweep", config, "--results", other / "results"};
    full.insert(full.end(), args.begin(), args.end());
    auto r = sinklab::test::sinklab(full);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains(message));
    CHECK_FALSE(fs::exists(other / "results/sw"));
  };
  rejected({"--grid", "theorem41.modle.d=1,2"}, "did you mean 'model'");
  rejected({}, "the sweep has no axes");
  rejected({"--grid", "theorem41.data.count=64,-3"}, "sweep point 1 (theorem41.data.count=-3)");
  rejected({"--grid", "seed=0,1", "--grid", "seed=2"}, "given twice");
  rejected({"--zip", "seed=0,1", "--zip", "theorem41.model.d=1,2,3"}, "same length");
  rejected({"--grid", "seed=0,1", "--partition", "gpu"}, "--partition is a Slurm option");
  rejected({"--grid", "seed=0,1", "--backend", "slurmm"}, "did you mean 'slurm'");
  CHECK_THAT(sinklab::test::sinklab({"sweep", "status", dir / "results"}).err, Contains("not a sweep directory"));
}

TEST_CASE("the Slurm backend writes a job array with one task per point, and says so clearly where Slurm is missing",
          "[cli][sweep][slurm]") {
  TempDir dir;
  auto config = dir.write("tiny.yaml", tiny_config("sl"));
  // Without sbatch on PATH: one clear error, exit 2, no sweep directory.
  auto missing = sinklab::test::sinklab({"sweep", config, "--grid", "seed=0,1", "--backend", "slurm", "--results", dir / "r1"},
                                        {"PATH=" + (dir / "empty-path")});
  INFO(missing.err);
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Contains("Slurm is not available here: no `sbatch` on PATH"));
  CHECK_FALSE(fs::exists(dir / "r1/sl"));
  // --no-submit: the script is written for a look or a manual sbatch.
  auto written = sinklab::test::sinklab({"sweep", config, "--grid", "seed=0,1,2", "--grid", "theorem41.model.d=1,2",
                                         "--backend", "slurm", "--no-submit", "--partition", "gpu", "--time", "01:00:00",
                                         "--gpus", "1", "--jobs", "3", "--threads", "4", "--sbatch-arg=--qos=short",
                                         "--results", dir / "r2", "-q"},
                                        {"PATH=" + (dir / "empty-path")});
  REQUIRE(written.exit_code == 0);
  const std::string out = printed_path(written);
  std::ifstream in(out + "/slurm/sweep.sbatch");
  std::stringstream script;
  script << in.rdbuf();
  for (const char* line : {"#SBATCH --array=0-5%3", "#SBATCH --partition=gpu", "#SBATCH --time=01:00:00", "#SBATCH --gpus=1",
                           "#SBATCH --cpus-per-task=4", "#SBATCH --qos=short", "/logs/slurm-%a.out", "sweep point",
                           "\"$SLURM_ARRAY_TASK_ID\""})
    CHECK_THAT(script.str(), Contains(line));
  auto meta = read_json(out + "/sweep.json");
  CHECK(meta["points"].size() == 6);
  CHECK(meta["points"][5]["command"].back() == "4");  // --threads 4 for every point
}

TEST_CASE("archives pack, verify and unpack a run; tampered, truncated and unsafe archives are refused",
          "[cli][archive]") {
  TempDir dir;
  auto config = dir.write("tiny.yaml", tiny_config());
  auto run = sinklab::test::sinklab({"run", config, "--results", dir / "results", "-q"});
  REQUIRE(run.exit_code == 0);
  const std::string run_dir = printed_path(run);
  for (const char* ext : {".tar.gz", ".tar.zst"}) {
    const std::string file = dir / (std::string("run") + ext);
    REQUIRE(sinklab::test::sinklab({"archive", "pack", run_dir, "-o", file, "-q"}).exit_code == 0);
    auto verify = sinklab::test::sinklab({"archive", "verify", file});
    CHECK(verify.exit_code == 0);
    CHECK_THAT(verify.out, Contains("every file matches"));
  }
  const std::string good = dir / "run.tar.gz";
  // diff: the same run is identical; a run with another d differs in its config and numbers.
  auto same = sinklab::test::sinklab({"archive", "diff", good, dir / "run.tar.zst"});
  CHECK(same.exit_code == 0);
  CHECK_THAT(same.out, Contains("config (resolved):\n  identical") && Contains("summary.json (A -> B):\n  identical"));
  auto other = sinklab::test::sinklab({"run", config, "theorem41.model.d=2", "--results", dir / "results2", "-q"});
  REQUIRE(other.exit_code == 0);
  REQUIRE(sinklab::test::sinklab({"archive", "pack", printed_path(other), "-o", dir / "d2.tar.gz", "-q"})
              .exit_code == 0);
  auto diff = sinklab::test::sinklab({"archive", "diff", good, dir / "d2.tar.gz"});
  CHECK(diff.exit_code == 0);
  CHECK_THAT(diff.out, Contains("+ ") && Contains("d: 2") && Contains("theorem41.error_mean: "));
  REQUIRE(sinklab::test::sinklab({"archive", "unpack", good, dir / "unpacked"}).exit_code == 0);
  CHECK(fs::exists(dir / "unpacked/run.h5"));
  CHECK(fs::exists(dir / "unpacked/figures/theorem41_error_vs_stag.png"));
  auto manifest = read_json(dir / "unpacked/MANIFEST.json");
  CHECK(manifest["files"].size() > 5);
  // The unpacked run is a run: inspect reads it, and its report re-renders from the files alone.
  CHECK(sinklab::test::sinklab({"inspect", dir / "unpacked"}).exit_code == 0);
  fs::remove(dir / "unpacked/report.html");
  REQUIRE(sinklab::test::sinklab({"report", dir / "unpacked"}).exit_code == 0);
  if (auto page = load_in_chromium(dir / "unpacked/report.html")) {
    CHECK(page->html_attributes["data-report-status"] == "ok");
    CHECK(page->html_attributes["data-figures-loaded"] == "3");
  }
  CHECK(sinklab::test::sinklab({"archive", "unpack", good, dir / "unpacked"}).exit_code == 2);  // exists already
  auto light = sinklab::test::sinklab({"archive", "pack", run_dir, "-o", dir / "light.tar.gz", "--no-tensors", "-q"});
  REQUIRE(light.exit_code == 0);
  CHECK(fs::file_size(dir / "light.tar.gz") < fs::file_size(good));

  // Truncated: half the bytes.
  {
    std::ifstream in(good, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    dir.write("truncated.tar.gz", bytes.substr(0, bytes.size() / 2));
  }
  auto truncated = sinklab::test::sinklab({"archive", "verify", dir / "truncated.tar.gz"});
  CHECK(truncated.exit_code == 2);
  CHECK_THAT(truncated.err, Contains("truncated or corrupt"));

  // Tampered, traversal and link entries, written with Python's tarfile.
  if (sinklab::test::run_process({"/bin/sh", "-c", "python3 -c 'import tarfile'"}).exit_code != 0) {
    SINKLAB_SKIP("the crafted-archive checks need python3's tarfile");
  }
  auto py = dir.write("craft.py", R"PY(
import io, sys, tarfile
src, out = sys.argv[1], sys.argv[2]
with tarfile.open(src) as t:
    members = [(m, t.extractfile(m).read()) for m in t.getmembers()]
def write(name, extra=None, tamper=False):
    with tarfile.open(f"{out}/{name}", "w:gz") as o:
        for m, data in members:
            if tamper and m.name.endswith("summary.json"):
                data = data.replace(b"1", b"2", 1)
                m.size = len(data)
            o.addfile(m, io.BytesIO(data))
        if extra:
            extra(o)
write("tampered.tar.gz", tamper=True)
def traversal(o):
    i = tarfile.TarInfo("../evil.txt"); data = b"x"; i.size = 1; o.addfile(i, io.BytesIO(data))
write("traversal.tar.gz", traversal)
def link(o):
    i = tarfile.TarInfo("run/passwd"); i.type = tarfile.SYMTYPE; i.linkname = "/etc/passwd"; o.addfile(i)
write("link.tar.gz", link)
# run.h5 replaced by a file that crashes HDF5 1.10, every hash made to match it.
import hashlib, json
crash = open(sys.argv[3], "rb").read()
files = {m.name: data for m, data in members}
root = members[0][0].name.split("/")[0]
files[f"{root}/run.h5"] = crash
sums = f"{root}/SHA256SUMS"
if sums in files:
    lines = files[sums].decode().splitlines()
    files[sums] = "".join((hashlib.sha256(crash).hexdigest() + l[64:] if l.endswith(" run.h5") else l) + "\n"
                          for l in lines).encode()
manifest = json.loads(files[f"{root}/MANIFEST.json"])
for f in manifest["files"]:
    data = files[f"{root}/{f['path']}"]
    f["sha256"], f["bytes"] = hashlib.sha256(data).hexdigest(), len(data)
files[f"{root}/MANIFEST.json"] = (json.dumps(manifest, indent=2) + "\n").encode()
with tarfile.open(f"{out}/crashing_h5.tar.gz", "w:gz") as o:
    for m, _ in members:
        data = files[m.name]; m.size = len(data); o.addfile(m, io.BytesIO(data))
# A manifest of 65 MiB (compressed to ~64 KiB): read whole, it would take the memory first.
with tarfile.open(f"{out}/huge_manifest.tar.gz", "w:gz") as o:
    data = b"{" + b" " * (65 << 20) + b"}"
    i = tarfile.TarInfo("run/MANIFEST.json"); i.size = len(data); o.addfile(i, io.BytesIO(data))
)PY");
  const std::string crashing = std::string(sinklab::source_dir()) + "/tests/io/data/hdf5_crash_vlen_attr.h5";
  REQUIRE(sinklab::test::run_process({"/bin/sh", "-c", "python3 " + py + " " + good + " " + dir.path() + " " + crashing})
              .exit_code == 0);
  // Every hash matches, yet HDF5 crashes reading run.h5: unpack refuses it, nothing unpacked.
  CHECK(sinklab::test::sinklab({"archive", "verify", dir / "crashing_h5.tar.gz"}).exit_code == 0);
  auto crafted = sinklab::test::sinklab({"archive", "unpack", dir / "crashing_h5.tar.gz", dir / "crafted"});
  CHECK(crafted.exit_code == 2);
  CHECK_THAT(crafted.err, Contains("run.h5") && Contains("crashed the HDF5 library") && Contains("nothing was unpacked"));
  CHECK_FALSE(fs::exists(dir / "crafted"));
  auto tampered = sinklab::test::sinklab({"archive", "verify", dir / "tampered.tar.gz"});
  CHECK(tampered.exit_code == 2);
  CHECK_THAT(tampered.err, Contains("summary.json: SHA-256 does not match"));
  for (const char* bad : {"traversal.tar.gz", "link.tar.gz"}) {
    auto r = sinklab::test::sinklab({"archive", "unpack", dir / bad, dir / (std::string("out-") + bad)});
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK_FALSE(fs::exists(dir / (std::string("out-") + bad)));
    CHECK_FALSE(fs::exists(dir / "evil.txt"));
  }
  CHECK_THAT(sinklab::test::sinklab({"archive", "verify", dir / "link.tar.gz"}).err, Contains("not a regular file"));
  CHECK_THAT(sinklab::test::sinklab({"archive", "verify", dir / "traversal.tar.gz"}).err, Contains("unsafe path"));
  auto huge = sinklab::test::sinklab({"archive", "verify", dir / "huge_manifest.tar.gz"});
  CHECK(huge.exit_code == 2);
  CHECK_THAT(huge.err, Contains("MANIFEST.json is over 64 MiB"));

  // A full disk while unpacking (a 16 KiB file-size limit: writes past it fail with EFBIG, as
  // ENOSPC would): exit 2, nothing at the destination, no temporary tree (issue 21, case 1).
  auto full = run_process({"/bin/bash", "-c", "ulimit -f 16; trap '' XFSZ; exec \"$0\" archive unpack \"$1\" \"$2\"",
                           sinklab_binary(), good, dir / "full"});
  INFO(full.err);
  CHECK(full.exit_code == 2);
  CHECK_THAT(full.err, Contains("disk full?") && Contains("nothing was unpacked"));
  CHECK_FALSE(fs::exists(dir / "full"));
  // The tree an unpack killed by SIGKILL left is removed by the next unpack to that place.
  pid_t gone = start_process({"/bin/true"}, dir / "o", dir / "e");
  wait_process(gone);
  const std::string left = dir / (".full.tmp." + std::to_string(gone) + ".0");
  fs::create_directories(left);
  REQUIRE(sinklab::test::sinklab({"archive", "unpack", good, dir / "full"}).exit_code == 0);
  CHECK_FALSE(fs::exists(left));
  for (const auto& e : fs::directory_iterator(dir.path()))
    CHECK(e.path().filename().string().find(".tmp.") == std::string::npos);
}

TEST_CASE("a point that fails is recorded as failed; the others still run and collect names the failure",
          "[cli][sweep]") {
  TempDir dir;
  auto config = dir.write("tiny.yaml", tiny_config("fp"));
  // The plan only (--no-submit), then each point run as a Slurm array task would run it.
  auto plan = sinklab::test::sinklab({"sweep", config, "--grid", "seed=0,1", "--backend", "slurm", "--no-submit",
                                      "--results", dir / "results", "-q"});
  REQUIRE(plan.exit_code == 0);
  const std::string out = printed_path(plan);
  const std::string text = read_file(config);
  fs::remove(config);  // point 0 runs without its config: it must fail, not hang or crash
  CHECK(sinklab::test::sinklab({"sweep", "point", out, "0"}).exit_code == 2);
  dir.write("tiny.yaml", text);
  CHECK(sinklab::test::sinklab({"sweep", "point", out, "1"}).exit_code == 0);
  CHECK(sinklab::test::sinklab({"sweep", "point", out, "7"}).exit_code == 2);  // no such point

  auto status = sinklab::test::sinklab({"sweep", "status", out});
  CHECK(status.exit_code == 1);
  CHECK_THAT(status.out, Contains("1 failed, 1 ok") && Contains("logs/0.log"));
  CHECK_THAT(read_file(out + "/logs/0.log"), Contains("tiny.yaml"));
  auto collect = sinklab::test::sinklab({"sweep", "collect", out, "--metric", "theorem41.error_mean"});
  CHECK(collect.exit_code == 1);
  CHECK_THAT(collect.err, Contains("0 (seed=0): failed"));
  const std::string csv = read_file(out + "/summary.csv");
  CHECK_THAT(csv, Contains("\n0,0,failed,2,") && Contains("\n1,1,ok,0,"));
  CHECK(fs::exists(out + "/figures/sweep_lines.png"));  // one axis: a line with the point that has a value

  // resume reruns only the failed point (here, with its config back), in the same directory.
  const auto point1_h5 = fs::last_write_time(out + "/points/1/run.h5");
  auto resume = sinklab::test::sinklab({"sweep", "resume", out, "--backend", "local", "-q"});
  INFO(resume.err);
  CHECK(resume.exit_code == 0);
  CHECK(fs::last_write_time(out + "/points/1/run.h5") == point1_h5);
  CHECK_THAT(read_file(out + "/summary.csv"), Contains("\n0,0,ok,0,") && Contains("\n1,1,ok,0,"));
  CHECK_THAT(sinklab::test::sinklab({"sweep", "status", out}).out, Contains("2 ok"));
  auto nothing = sinklab::test::sinklab({"sweep", "resume", out, "--backend", "local"});
  CHECK(nothing.exit_code == 0);
  CHECK_THAT(nothing.err, Contains("nothing to run"));
}

// A run's artifacts and figures are hard links into the stage cache: a cache entry modified
// after the run was published changes them too. `archive pack` compares them with the run's
// SHA256SUMS and refuses (issue 21, case 6).
TEST_CASE("a published file changed later (through the cache it shares) is refused by archive pack", "[cli][archive]") {
  TempDir dir;
  auto config = dir.write("tiny.yaml", tiny_config());
  auto run = sinklab::test::sinklab({"run", config, "--results", dir / "results", "-q"});
  REQUIRE(run.exit_code == 0);
  const std::string run_dir = printed_path(run);
  REQUIRE(fs::exists(run_dir + "/SHA256SUMS"));
  CHECK_THAT(read_file(run_dir + "/SHA256SUMS"), Contains("  figures/theorem41_error_vs_stag.png\n"));
  REQUIRE(sinklab::test::sinklab({"archive", "pack", run_dir, "-o", dir / "ok.tar.gz", "-q"}).exit_code == 0);
  {  // in place, as a corrupted or overwritten cache entry would change the shared file
    std::fstream f(run_dir + "/figures/theorem41_error_vs_stag.png", std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(100);
    f << "XXXX";
  }
  auto bad = sinklab::test::sinklab({"archive", "pack", run_dir, "-o", dir / "bad.tar.gz", "-q"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Contains("figures/theorem41_error_vs_stag.png changed since the run was published"));
  CHECK_FALSE(fs::exists(dir / "bad.tar.gz"));
}
