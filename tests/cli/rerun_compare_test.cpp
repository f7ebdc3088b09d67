// `sinklab archive rerun` and `sinklab compare` end to end (issue 22): a fresh archive reruns
// and agrees; a changed input is named by its fingerprint; a perturbed number is reported with
// its key; compare lists only the keys that differ and its page loads in a browser.
#include "tests/support/catch.h"
#include <filesystem>
#include <set>
#include <fmt/format.h>

#include "framework/io/atomic_file.h"
#include "framework/util/hash.h"
#include "framework/util/strings.h"
#include "framework/util/system.h"
#include "tests/cli/cli_support.h"
#include "tests/support/browser.h"
#include "tests/support/process.h"
#include "tests/support/shared_dir.h"
#include "tests/support/skip.h"
#include "tests/support/temp_dir.h"

using namespace sinklab;
using namespace sinklab::test;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

// A copy of `archive` with one float of summary.json multiplied by 1.5 and every hash made to
// match (MANIFEST.json, SHA256SUMS), so it verifies; prints the number's dotted key.
const char* kPerturb = R"PY(
import hashlib, io, json, sys, tarfile
src, out = sys.argv[1], sys.argv[2]
with tarfile.open(src) as t:
    members = [(m, t.extractfile(m).read()) for m in t.getmembers()]
files = {m.name: data for m, data in members}
root = members[0][0].name.split("/")[0]
summary = json.loads(files[f"{root}/summary.json"])
def first_float(j, path):
    if isinstance(j, dict):
        for k, v in j.items():
            r = first_float(v, path + [k])
            if r: return r
    elif isinstance(j, float) and j != 0.0:
        return path
perturbed = first_float(summary, [])
node = summary
for k in perturbed[:-1]: node = node[k]
node[perturbed[-1]] *= 1.5
files[f"{root}/summary.json"] = (json.dumps(summary, indent=2) + "\n").encode()
data = files[f"{root}/summary.json"]
sums = f"{root}/SHA256SUMS"
if sums in files:
    files[sums] = "".join((hashlib.sha256(data).hexdigest() + l[64:] if l.endswith(" summary.json") else l) + "\n"
                          for l in files[sums].decode().splitlines()).encode()
manifest = json.loads(files[f"{root}/MANIFEST.json"])
for f in manifest["files"]:
    d = files[f"{root}/{f['path']}"]
    f["sha256"], f["bytes"] = hashlib.sha256(d).hexdigest(), len(d)
files[f"{root}/MANIFEST.json"] = (json.dumps(manifest, indent=2) + "\n").encode()
with tarfile.open(out, "w:gz") as o:
    for m, _ in members:
        d = files[m.name]; m.size = len(d); o.addfile(m, io.BytesIO(d))
print(".".join(perturbed))
)PY";

}  // namespace

TEST_CASE("archive rerun: a fresh archive agrees; a perturbed summary number is reported with its key",
          "[cli][archive][rerun]") {
  TempDir dir;
  auto config = dir.write("tiny.yaml", tiny_config());
  auto run = sinklab::test::sinklab({"run", config, "--results", dir / "results", "-q"});
  REQUIRE(run.exit_code == 0);
  const std::string good = dir / "run.tar.gz";
  REQUIRE(sinklab::test::sinklab({"archive", "pack", printed_path(run), "-o", good, "-q"}).exit_code == 0);

  auto rerun = sinklab::test::sinklab({"archive", "rerun", good, "-q", "--work", dir / "work", "--show", "100"});
  INFO(rerun.out << rerun.err);
  CHECK(rerun.exit_code == 0);
  CHECK_THAT(rerun.out, Contains("the rerun agrees with the archive") && Contains("summary.json and run.h5") &&
                            Contains("run.h5:/theorem41.sweep/"));
  CHECK(fs::exists(dir / "work/rerun/run.h5"));  // --work keeps it all
  // Without --work nothing is left in the temporary directory.
  auto again = sinklab::test::sinklab({"archive", "rerun", good, "-q", "--show", "0"});
  CHECK(again.exit_code == 0);

  if (run_process({"/bin/sh", "-c", "python3 -c 'import tarfile'"}).exit_code != 0) {
    SINKLAB_SKIP("the perturbed archive is made with python3's tarfile");
  }
  auto py = dir.write("perturb.py", kPerturb);
  auto made = run_process({"/bin/sh", "-c", "python3 " + py + " " + good + " " + dir / "perturbed.tar.gz"});
  REQUIRE(made.exit_code == 0);
  const std::string key = sinklab::trim(made.out);
  REQUIRE_FALSE(key.empty());
  REQUIRE(sinklab::test::sinklab({"archive", "verify", dir / "perturbed.tar.gz"}).exit_code == 0);
  auto differs = sinklab::test::sinklab({"archive", "rerun", dir / "perturbed.tar.gz", "-q"});
  INFO(differs.out << differs.err);
  CHECK(differs.exit_code == 3);
  CHECK_THAT(differs.out, Contains("summary.json:" + key) && Contains("DIFFERS") &&
                              Contains("the rerun DISAGREES with the archive"));
  // The largest difference comes first: the perturbed number is the table's first row.
  const auto first_row = differs.out.substr(differs.out.find("verdict\n") + 8);
  CHECK(first_row.rfind("summary.json:" + key, 0) == 0);
  // A tolerance that covers a factor 1.5 lets it pass; a malformed one is refused.
  CHECK(sinklab::test::sinklab({"archive", "rerun", dir / "perturbed.tar.gz", "-q", "--tolerance", "summary.json:" + key + "=0.5"})
            .exit_code == 0);
  auto bad = sinklab::test::sinklab({"archive", "rerun", good, "--tolerance", "x=abc"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Contains("--tolerance 'x=abc'"));
}

TEST_CASE("archive rerun finds moved inputs by fingerprint and names a changed prompt file with the one it needs",
          "[cli][archive][rerun]") {
  const auto shared_root = shared_dir();
  if (!shared_root) {
    SINKLAB_SKIP("../shared/models/tiny-phi3 not found (set SINKLAB_SHARED)");
  }
  TempDir dir;
  fs::create_directories(dir / "prompts");
  const std::string prompt = dir.write("prompts/story.txt", "Once upon a time, in a small village, a tag was caught and released.\n");
  const std::string prompt_sha = sha256_file(prompt);
  auto config = dir.write("hook.yaml", fmt::format(
      "name: rerun-hook\nseed: 0\nthreads: 2\nmodel: {{path: {}/models/tiny-phi3, dtype: float32}}\n"
      "prompts: [{{id: story, file: {}}}]\nprobes: [{{site: pattern, layers: [0], heads: [1]}}]\npca: []\n",
      *shared_root, prompt));
  auto run = sinklab::test::sinklab({"run", config, "--results", dir / "results", "-q"});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const std::string archive = dir / "hook.tar.gz";
  REQUIRE(sinklab::test::sinklab({"archive", "pack", printed_path(run), "-o", archive, "-q"}).exit_code == 0);

  // The prompt moved to another directory: found under --data by its name, the config follows it.
  fs::create_directories(dir / "elsewhere");
  fs::rename(prompt, dir / "elsewhere/story.txt");
  auto missing = sinklab::test::sinklab({"archive", "rerun", archive, "-q"});
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Contains("story.txt") && Contains(prompt_sha) && Contains("not found") && Contains("--data"));
  auto moved = sinklab::test::sinklab({"archive", "rerun", archive, "--data", dir / "elsewhere"});
  INFO(moved.out << moved.err);
  CHECK(moved.exit_code == 0);
  CHECK_THAT(moved.err, Contains("input moved: prompts.0.file: " + prompt + " -> " + (dir / "elsewhere/story.txt")));
  CHECK_THAT(moved.out, Contains("run.h5:/hook.dense/") && Contains("the rerun agrees"));

  // Its content changed: named with the SHA-256 it must have and the one it has; nothing runs.
  write_file_atomic(dir / "elsewhere/story.txt", "Once upon a time, in a large city.\n");
  auto changed = sinklab::test::sinklab({"archive", "rerun", archive, "--data", dir / "elsewhere", "--work", dir / "w"});
  INFO(changed.err);
  CHECK(changed.exit_code == 2);
  CHECK_THAT(changed.err, Contains("story.txt (sha256 " + prompt_sha) && Contains("only different files were found") &&
                              Contains(sha256_file(dir / "elsewhere/story.txt")));
  CHECK_FALSE(fs::exists(dir / "w/rerun"));
}

TEST_CASE("compare lists only the config keys that differ, the numbers side by side, and figures in one page",
          "[cli][compare]") {
  TempDir dir;
  auto config = dir.write("tiny.yaml", tiny_config());
  auto a = sinklab::test::sinklab({"run", config, "--results", dir / "a", "-q"});
  auto b = sinklab::test::sinklab({"run", config, "theorem41.model.d=2", "--results", dir / "b", "-q"});
  REQUIRE(a.exit_code == 0);
  REQUIRE(b.exit_code == 0);
  const std::string archive = dir / "a.tar.gz";
  REQUIRE(sinklab::test::sinklab({"archive", "pack", printed_path(a), "-o", archive, "-q"}).exit_code == 0);

  auto cmp = sinklab::test::sinklab({"compare", printed_path(a), printed_path(b), archive, "-o", dir / "cmp.html"});
  INFO(cmp.out << cmp.err);
  REQUIRE(cmp.exit_code == 0);
  CHECK(printed_path(cmp) == dir / "cmp.html");
  CHECK_THAT(cmp.out, Contains("config: 1 of ") && Contains("theorem41.model.d") && Contains("B - A"));
  CHECK_THAT(cmp.out, !Contains("theorem41.data.count"));  // equal in every run: not listed
  CHECK_THAT(cmp.out, Contains("theorem41.error_mean"));    // a number that d changes
  auto every = sinklab::test::sinklab({"compare", printed_path(a), printed_path(b), "--all", "-o", dir / "all.html"});
  CHECK_THAT(every.out, Contains("theorem41.data.count"));
  const std::string page = read_file(dir / "cmp.html");
  CHECK_THAT(page, Contains("theorem41.model.d") && Contains("Figures side by side"));
  if (auto loaded = load_in_chromium(dir / "cmp.html")) {
    INFO(loaded->browser_log.substr(0, 2000));
    CHECK(loaded->html_attributes["data-report-status"] == "ok");
    CHECK(loaded->html_attributes["data-figures-total"] == "9");  // 3 figures x 3 runs
    CHECK(loaded->html_attributes["data-figures-loaded"] == "9");
  } else {
    skipped("no chromium on PATH: the compare page was checked as text only");
  }
  auto one = sinklab::test::sinklab({"compare", printed_path(a)});
  CHECK(one.exit_code == 2);
  CHECK_THAT(one.err, Contains("two or more runs"));
  auto not_run = sinklab::test::sinklab({"compare", printed_path(a), dir.path()});
  CHECK(not_run.exit_code == 2);
  CHECK_THAT(not_run.err, Contains("is not a finished run"));
}

TEST_CASE("checks: eval and metrics rerun with another thread count and batch size; provenance and the report say "
          "what moved", "[cli][checks]") {
  const auto shared_root = shared_dir();
  if (!shared_root) {
    SINKLAB_SKIP("../shared/models/tiny-phi3 not found (set SINKLAB_SHARED)");
  }
  if (!fs::is_directory("/usr/share/hamexam")) {
    SINKLAB_SKIP("hamexam is not installed (scripts/setup.sh installs it)");
  }
  TempDir dir;
  auto config = dir.write("checks.yaml", fmt::format(
      "name: checks\nseed: 0\nthreads: 2\nmodel: {{path: {}/models/tiny-phi3, dtype: float32}}\n"
      "prompts: [{{id: fig5, file: configs/prompts/fig5.txt}}]\nmetrics: {{sink_epsilon: 0.3}}\n"
      "eval: {{task: hamexam, data: /usr/share/hamexam, shots: [0, 2], limit: 6, batch_size: 3}}\n"
      "checks: {{batch_invariance: true, thread_invariance: true}}\n", *shared_root));
  auto run = sinklab::test::sinklab({"run", config, "--results", dir / "results", "-q"});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  auto provenance = read_json(printed_path(run) + "/provenance.json");
  REQUIRE(provenance.contains("checks"));
  std::set<std::string> conditions;
  for (const auto& c : provenance["checks"]) {
    conditions.insert(c["stage"].get<std::string>() + ": " + c["condition"].get<std::string>());
    // The claim: scoring and metrics do not depend on threads or batching beyond float32 rounding.
    CHECK(c["within_tolerance"].get<bool>());
    CHECK(c["max_relative_difference"].get<double>() < 1e-5);
  }
  CHECK(conditions == std::set<std::string>{"eval.dense: threads 2 -> 1", "eval.dense: eval.batch_size 3 -> 1",
                                            "metrics.dense: threads 2 -> 1"});
  CHECK_THAT(read_file(printed_path(run) + "/report.html"), Contains("Invariance checks") && !Contains("Warning:"));

  // A tolerance below float32 rounding: whatever moved is now a warning, in provenance and report.
  auto strict = sinklab::test::sinklab({"run", config, "checks.tolerance=1e-12", "--results", dir / "results", "-q"});
  REQUIRE(strict.exit_code == 0);
  auto strict_provenance = read_json(printed_path(strict) + "/provenance.json");
  bool any_warning = false;
  for (const auto& c : strict_provenance["checks"]) {
    const bool beyond = c["max_relative_difference"].get<double>() > 1e-12;
    CHECK(c["within_tolerance"].get<bool>() == !beyond);
    any_warning = any_warning || beyond;
  }
  CHECK(any_warning == (read_file(printed_path(strict) + "/report.html").find("Warning:") != std::string::npos));
}
