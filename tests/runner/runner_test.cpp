// The stage runner: cache hits and misses, invalidation, --force, corrupt entries, failures.
#include <ATen/ATen.h>

#include "tests/support/catch.h"
#include <filesystem>
#include <fstream>
#include <functional>

#include "framework/runner/runner.h"
#include "framework/util/error.h"
#include "framework/util/hash.h"
#include "framework/io/atomic_file.h"
#include "tests/support/temp_dir.h"

using namespace sinklab;
namespace fs = std::filesystem;

namespace {

std::map<std::string, int> g_runs;  // how often each stage's body ran

class FakeStage : public Stage {
 public:
  FakeStage(std::string name, nlohmann::ordered_json reads, std::vector<std::string> upstream = {}, int version = 1,
            std::function<void(StageContext&)> body = {})
      : name_(std::move(name)), reads_(std::move(reads)), upstream_(std::move(upstream)), version_(version),
        body_(std::move(body)) {}
  std::string name() const override { return name_; }
  int version() const override { return version_; }
  nlohmann::ordered_json reads() const override { return reads_; }
  std::vector<std::string> upstream() const override { return upstream_; }
  void run(StageContext& ctx) const override {
    g_runs[name_] += 1;
    if (body_) return body_(ctx);
    // value = reads["v"] + the upstream values
    double v = reads_.value("v", 0.0);
    for (const auto& up : upstream_) v += ctx.input(up).read("value").item<double>();
    ctx.output().write("value", at::tensor(v, at::kDouble).reshape({}));
  }

 private:
  std::string name_;
  nlohmann::ordered_json reads_;
  std::vector<std::string> upstream_;
  int version_;
  std::function<void(StageContext&)> body_;
};

struct Pipeline {
  double a = 1, b = 2;
  int a_version = 1;
  std::vector<std::string> force;
};

std::vector<StageRecord> run_pipeline(const std::string& cache, const Pipeline& p) {
  Runner r(RunnerOptions{cache, p.force, c10::Device(c10::DeviceType::CPU)});
  // Added downstream-first: the runner orders by upstream links, not by insertion.
  r.add(std::make_unique<FakeStage>("b", nlohmann::ordered_json{{"v", p.b}}, std::vector<std::string>{"a"}));
  r.add(std::make_unique<FakeStage>("a", nlohmann::ordered_json{{"v", p.a}}, std::vector<std::string>{}, p.a_version));
  return r.run();
}

double value_of(const StageRecord& r) { return Hdf5File(r.entry, Hdf5File::Mode::read).read("value").item<double>(); }

}  // namespace

TEST_CASE("a finished stage is reused from the cache on the next run", "[runner]") {
  test::TempDir dir;
  g_runs.clear();
  auto first = run_pipeline(dir.path(), {});
  REQUIRE(first.size() == 2);
  CHECK(first[0].name == "a");
  CHECK_FALSE(first[0].cached);
  CHECK(value_of(first[1]) == 3.0);
  auto second = run_pipeline(dir.path(), {});
  CHECK(second[0].cached);
  CHECK(second[1].cached);
  CHECK(second[1].key == first[1].key);
  CHECK(g_runs["a"] == 1);
  CHECK(g_runs["b"] == 1);
}

TEST_CASE("changing what a stage reads reruns it and its downstream, nothing else", "[runner]") {
  test::TempDir dir;
  g_runs.clear();
  run_pipeline(dir.path(), {});
  auto changed_b = run_pipeline(dir.path(), {1, 5, 1, {}});
  CHECK(changed_b[0].cached);
  CHECK_FALSE(changed_b[1].cached);
  CHECK(value_of(changed_b[1]) == 6.0);
  auto changed_a = run_pipeline(dir.path(), {10, 5, 1, {}});
  CHECK_FALSE(changed_a[0].cached);
  CHECK_FALSE(changed_a[1].cached);  // its upstream key changed
  CHECK(value_of(changed_a[1]) == 15.0);
  auto bumped = run_pipeline(dir.path(), {10, 5, 2, {}});
  CHECK_FALSE(bumped[0].cached);  // a new stage version invalidates
  CHECK(g_runs["a"] == 3);
}

TEST_CASE("--force recomputes a stage and everything downstream of it", "[runner]") {
  test::TempDir dir;
  g_runs.clear();
  run_pipeline(dir.path(), {});
  auto forced_a = run_pipeline(dir.path(), {1, 2, 1, {"a"}});
  CHECK_FALSE(forced_a[0].cached);
  CHECK_FALSE(forced_a[1].cached);
  auto forced_b = run_pipeline(dir.path(), {1, 2, 1, {"b"}});
  CHECK(forced_b[0].cached);
  CHECK_FALSE(forced_b[1].cached);
  auto all = run_pipeline(dir.path(), {1, 2, 1, {"all"}});
  CHECK_FALSE(all[0].cached);
  CHECK(g_runs["a"] == 3);
  CHECK(g_runs["b"] == 4);
  try {
    run_pipeline(dir.path(), {1, 2, 1, {"bb"}});
    FAIL("expected an error");
  } catch (const InputError& e) {
    CHECK_THAT(e.what(), Catch::Contains("--force bb") && Catch::Contains("did you mean 'b'?"));
  }
}

TEST_CASE("corrupt, truncated or half-committed cache entries are detected and recomputed", "[runner]") {
  test::TempDir dir;
  g_runs.clear();
  auto first = run_pipeline(dir.path(), {});
  const std::string entry = first[1].entry, manifest = entry.substr(0, entry.size() - 3) + ".json";

  SECTION("a flipped byte") {
    std::fstream f(entry, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(-8, std::ios::end);
    char c;
    f.get(c);
    f.seekp(-8, std::ios::end);
    f.put(char(c ^ 0x5a));
  }
  SECTION("a truncated file") { fs::resize_file(entry, fs::file_size(entry) / 2); }
  SECTION("a missing manifest (killed between the two renames)") { fs::remove(manifest); }
  SECTION("garbage in the manifest") { std::ofstream(manifest) << "{not json"; }

  auto again = run_pipeline(dir.path(), {});
  CHECK(again[0].cached);
  CHECK_FALSE(again[1].cached);
  CHECK(value_of(again[1]) == 3.0);
  CHECK(g_runs["b"] == 2);
  CHECK(run_pipeline(dir.path(), {})[1].cached);  // and the new entry is valid
}

TEST_CASE("a stage that fails leaves no entry and no temporary file", "[runner]") {
  test::TempDir dir;
  Runner r(RunnerOptions{dir.path(), {}, c10::Device(c10::DeviceType::CPU)});
  r.add(std::make_unique<FakeStage>("boom", nlohmann::ordered_json{{"v", 1}}, std::vector<std::string>{}, 1,
                                    [](StageContext& ctx) {
                                      ctx.output().write("partial", at::ones({1000}));
                                      throw InputError("the data file is bad");
                                    }));
  CHECK_THROWS_AS(r.run(), InputError);
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(dir / "boom"))
    if (e.path().extension() != ".lock") left.push_back(e.path().filename().string());
  CHECK(left.empty());
}

TEST_CASE("a stage's resume directory survives a failed run, and goes once it commits or is forced", "[runner]") {
  test::TempDir dir;
  // Counts finished parts in its resume directory; fails after the first part on the first try.
  auto stage = [](std::vector<int>* seen, bool* fail) {
    return std::make_unique<FakeStage>("long", nlohmann::ordered_json{{"v", 1}}, std::vector<std::string>{}, 1,
                                       [seen, fail](StageContext& ctx) {
                                         const std::string part = ctx.resume_dir() + "/part-0";
                                         seen->push_back(fs::exists(part) ? 1 : 0);
                                         write_file_atomic(part, "done");
                                         if (*fail) throw InputError("killed");
                                         ctx.output().write("value", at::tensor(1.0, at::kDouble).reshape({}));
                                       });
  };
  std::vector<int> seen;
  bool fail = true;
  auto run = [&](std::vector<std::string> force) {
    Runner r(RunnerOptions{dir.path(), force, c10::Device(c10::DeviceType::CPU)});
    r.add(stage(&seen, &fail));
    return r.run();
  };
  CHECK_THROWS_AS(run({}), InputError);
  std::vector<std::string> resume;
  for (const auto& e : fs::directory_iterator(dir / "long"))
    if (e.path().extension() == ".resume") resume.push_back(e.path().string());
  REQUIRE(resume.size() == 1);  // kept: the next run continues from it
  CHECK(fs::exists(resume[0] + "/part-0"));
  fail = false;
  auto recs = run({});
  CHECK(seen == std::vector<int>{0, 1});  // the second run found the first run's part
  CHECK_FALSE(fs::exists(resume[0]));      // committed: the parts are gone
  // A forced run starts from nothing even when parts were left behind.
  fs::create_directories(resume[0]);
  write_file_atomic(resume[0] + "/part-0", "stale");
  run({"long"});
  CHECK(seen.back() == 0);
  CHECK(value_of(recs[0]) == 1.0);
}

TEST_CASE("stage graphs with missing upstreams or cycles are refused", "[runner]") {
  test::TempDir dir;
  Runner missing(RunnerOptions{dir.path(), {}, c10::Device(c10::DeviceType::CPU)});
  missing.add(std::make_unique<FakeStage>("x", nlohmann::ordered_json{}, std::vector<std::string>{"ghost"}));
  CHECK_THROWS_WITH(missing.validate(), Catch::Contains("needs 'ghost'"));
  Runner cycle(RunnerOptions{dir.path(), {}, c10::Device(c10::DeviceType::CPU)});
  cycle.add(std::make_unique<FakeStage>("p", nlohmann::ordered_json{}, std::vector<std::string>{"q"}));
  cycle.add(std::make_unique<FakeStage>("q", nlohmann::ordered_json{}, std::vector<std::string>{"p"}));
  CHECK_THROWS_WITH(cycle.validate(), Catch::Contains("cycle"));
}

TEST_CASE("cache keys depend on content, not on key order", "[runner]") {
  FakeStage a("s", nlohmann::ordered_json{{"x", 1}, {"y", 2}}), b("s", nlohmann::ordered_json{{"y", 2}, {"x", 1}}),
      c("s", nlohmann::ordered_json{{"x", 1}, {"y", 3}});
  CHECK(Runner::cache_key(a, {}, {}) == Runner::cache_key(b, {}, {}));
  CHECK(Runner::cache_key(a, {}, {}) != Runner::cache_key(c, {}, {}));
  CHECK(Runner::cache_key(a, {"k1"}, {}) != Runner::cache_key(a, {"k2"}, {}));
  CHECK(Runner::cache_key(a, {}, {{"f", "h1"}}) != Runner::cache_key(a, {}, {{"f", "h2"}}));
}

TEST_CASE("extra files a stage writes are committed with it, checked, and readable downstream", "[runner]") {
  test::TempDir dir;
  auto make = [&] {
    Runner r(RunnerOptions{dir.path(), {}, c10::Device(c10::DeviceType::CPU)});
    r.add(std::make_unique<FakeStage>("writer", nlohmann::ordered_json{{"v", 1}}, std::vector<std::string>{}, 1,
                                      [](StageContext& ctx) {
                                        std::ofstream(ctx.artifact("weights.bin")) << "payload";
                                        ctx.output().write("value", at::ones({1}));
                                      }));
    r.add(std::make_unique<FakeStage>("reader", nlohmann::ordered_json{}, std::vector<std::string>{"writer"}, 1,
                                      [](StageContext& ctx) {
                                        std::ifstream in(ctx.upstream_artifact("writer", "weights.bin"));
                                        std::string s;
                                        in >> s;
                                        ctx.output().write("length", at::tensor(int64_t(s.size())).reshape({}));
                                      }));
    return r;
  };
  g_runs.clear();
  auto first = make().run();
  REQUIRE_FALSE(first[0].artifacts.empty());
  CHECK(fs::exists(first[0].artifacts + "/weights.bin"));
  CHECK(Hdf5File(first[1].entry, Hdf5File::Mode::read).read("length").item<int64_t>() == 7);
  CHECK(g_runs["writer"] == 1);
  CHECK(make().run()[0].cached);
  std::ofstream(first[0].artifacts + "/weights.bin") << "tampered";
  auto again = make().run();
  CHECK_FALSE(again[0].cached);  // the file no longer matches its manifest hash
  CHECK(g_runs["writer"] == 2);
  std::ifstream in(again[0].artifacts + "/weights.bin");
  std::string s;
  in >> s;
  CHECK(s == "payload");
}

TEST_CASE("input file fingerprints are remembered by size, mtime, inode and ctime; a changed file changes the key",
          "[runner]") {
  test::TempDir dir;
  auto data = dir.write("weights.bin", "version one");
  StageCache cache(dir / "cache");
  const std::string first = cache.fingerprint(data);
  CHECK(first == sha256_file(data));
  CHECK(fs::exists(dir / "cache/fingerprints.json"));
  // A stale memo (same size and mtime claimed for different content) is what the memo trusts:
  // prove the memo is consulted by planting a fake hash for the current size and mtime.
  auto memo = nlohmann::json::parse(read_file(dir / "cache/fingerprints.json"));
  memo[fs::weakly_canonical(data).string()]["sha256"] = "remembered";
  write_file_atomic(dir / "cache/fingerprints.json", memo.dump());
  CHECK(StageCache(dir / "cache").fingerprint(data) == "remembered");
  // Changed in place, same size, its mtime put back as `touch -r` does: the ctime gives it away
  // (issue 21, case 5).
  const auto mtime = fs::last_write_time(data);
  {
    std::fstream f(data, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(0);
    f << "VERSION";
  }
  fs::last_write_time(data, mtime);
  REQUIRE(fs::file_size(data) == std::string("version one").size());
  CHECK(StageCache(dir / "cache").fingerprint(data) == sha256_file(data));
  // --rehash trusts no memo, even one that matches.
  memo = nlohmann::json::parse(read_file(dir / "cache/fingerprints.json"));
  memo[fs::weakly_canonical(data).string()]["sha256"] = "remembered";
  write_file_atomic(dir / "cache/fingerprints.json", memo.dump());
  CHECK(StageCache(dir / "cache").fingerprint(data) == "remembered");
  StageCache rehash(dir / "cache");
  rehash.set_rehash(true);
  CHECK(rehash.fingerprint(data) == sha256_file(data));
  // Rewriting the file (new size) is noticed.
  dir.write("weights.bin", "version two, longer");
  CHECK(StageCache(dir / "cache").fingerprint(data) == sha256_file(data));
  // A corrupt memo is ignored with a warning, not trusted.
  write_file_atomic(dir / "cache/fingerprints.json", "{not json");
  CHECK(StageCache(dir / "cache").fingerprint(data) == sha256_file(data));
  CHECK_THROWS_AS(cache.fingerprint(dir / "missing.bin"), InputError);
}

TEST_CASE("the plan names the stages over a memory budget with the keys that shrink them", "[runner][plan]") {
  const double gib = 1024.0 * 1024.0 * 1024.0;
  StageCost big;
  big.activations = 3 * gib;
  big.calibration = 1 * gib;
  big.mapped = 20 * gib;  // file-backed: not counted
  big.fit = "calibration.batch_size";
  StageCost small;
  small.weights = 0.5 * gib;
  std::vector<PlannedStage> plan{{"prune.x", big, ""}, {"hook.x", small, ""}, {"pca", std::nullopt, ""}};
  CHECK(big.anonymous() == 4 * gib);
  CHECK(over_budget(plan, 0.25 * gib, 8 * gib).empty());
  const std::string msg = over_budget(plan, 0.25 * gib, 4 * gib);  // 4.25 GiB > 4, 0.75 GiB fits
  CHECK_THAT(msg, Catch::Contains("prune.x: about 4.2 GiB; to fit: calibration.batch_size"));
  CHECK_THAT(msg, !Catch::Contains("hook.x"));
  const std::string table = plan_table(plan, 0.25 * gib, c10::Device(c10::DeviceType::CPU));
  CHECK_THAT(table, Catch::Contains("prune.x") && Catch::Contains("4.25") && Catch::Contains("20.00"));
  CHECK_THAT(table, Catch::Contains("pca") && Catch::Contains("(small)"));
  // A stage that can move its calibration stream to a scratch file fits by spilling it.
  plan[0].cost->spillable = 1 * gib;
  CHECK(over_budget(plan, 0.25 * gib, 4 * gib).empty());           // 4.25 - 1 fits in 4
  CHECK_THAT(over_budget(plan, 0.25 * gib, 3 * gib), Catch::Contains("prune.x: about 3.2 GiB"));
  CHECK_THAT(spilling(plan, 0.25 * gib, 4 * gib), Catch::Contains("prune.x: over the 4.0 GiB budget") &&
                                                   Catch::Contains("(1.00 GiB) goes to a scratch file"));
  CHECK(spilling(plan, 0.25 * gib, 8 * gib).empty());
  CHECK_FALSE(plan[0].cost->spills(0.25 * gib, 0));  // no budget: never
}
