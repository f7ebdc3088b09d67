// Comparing two runs' numbers (archive rerun, invariance checks): the relative difference by hand,
// exact integers and strings, NaN places, timings left out, glob tolerances, moved paths.
#include <ATen/ATen.h>

#include "tests/support/catch.h"

#include "framework/io/hdf5_store.h"
#include "framework/io/result_diff.h"
#include "framework/util/error.h"
#include "tests/support/temp_dir.h"

using namespace sinklab;
using sinklab::test::TempDir;

namespace {

std::map<std::string, QuantityDiff> by_name(const std::vector<QuantityDiff>& diffs) {
  std::map<std::string, QuantityDiff> out;
  for (const auto& d : diffs) out[d.name] = d;
  return out;
}

}  // namespace

TEST_CASE("summary numbers: relative to the value, integers exact, timings and the config hash left out", "[io][diff]") {
  const auto a = nlohmann::json::parse(R"({"loss": 2.0, "steps": 10, "seconds": 3.5, "stage": {"peak_anonymous_mib": 7.0, "microseconds_per_step": 5},
      "config_hash": "abc", "model": "/old/m", "tag": "x", "gone": 1.5})");
  const auto b = nlohmann::json::parse(R"({"loss": 2.0001, "steps": 11, "seconds": 9.0, "stage": {"peak_anonymous_mib": 1.0, "microseconds_per_step": 6},
      "config_hash": "def", "model": "/new/m", "tag": "y", "extra": 1})");
  auto d = by_name(diff_summaries(a, b, Tolerances::defaults(false), {{"/old/m", "/new/m"}}));
  CHECK(d.count("summary.json:seconds") == 0);
  CHECK(d.count("summary.json:stage.peak_anonymous_mib") == 0);
  CHECK(d.count("summary.json:stage.microseconds_per_step") == 0);
  CHECK(d.count("summary.json:config_hash") == 0);
  CHECK(d["summary.json:loss"].relative == Approx(0.0001 / 2.0));  // |a - b| / |a|
  CHECK(d["summary.json:loss"].agrees());                          // 5e-5 <= 1e-4
  CHECK(d["summary.json:steps"].dtype == "integer");
  CHECK_FALSE(d["summary.json:steps"].agrees());  // 10 vs 11: integers are exact
  CHECK(d["summary.json:model"].agrees());        // the path the rerun found it at, put back
  CHECK_FALSE(d["summary.json:tag"].agrees());
  CHECK(d["summary.json:gone"].problem == "absent in the rerun");
  CHECK(d["summary.json:extra"].problem == "only in the rerun");

  Tolerances strict = Tolerances::defaults(false);
  strict.add_override("summary.json:lo*=1e-6");
  CHECK_FALSE(by_name(diff_summaries(a, b, strict))["summary.json:loss"].agrees());
  strict.add_override("summary.json:steps=1");  // integers: the fraction of elements that may differ
  CHECK(by_name(diff_summaries(a, b, strict))["summary.json:steps"].agrees());
  CHECK_THROWS_AS(strict.add_override("x=abc"), InputError);
  CHECK_THROWS_AS(strict.add_override("x=-1"), InputError);
}

TEST_CASE("run.h5 datasets: max |a - b| / max |a|, NaN places, exact integers and strings, sorted by severity",
          "[io][diff]") {
  TempDir dir;
  {
    Hdf5File a(dir / "a.h5", Hdf5File::Mode::create), b(dir / "b.h5", Hdf5File::Mode::create);
    a.write("/s/x", at::tensor({10.0f, -20.0f, 0.5f}));
    b.write("/s/x", at::tensor({10.0f, -20.001f, 0.5f}));  // 0.001 / 20 = 5e-5
    a.write("/s/nan", at::tensor({1.0, NAN}));
    b.write("/s/nan", at::tensor({NAN, 1.0}));
    a.write("/s/ids", at::tensor({std::int64_t(1), std::int64_t(2), std::int64_t(3), std::int64_t(4)}));
    b.write("/s/ids", at::tensor({std::int64_t(1), std::int64_t(2), std::int64_t(3), std::int64_t(5)}));
    a.write("/s/block_seconds", at::tensor({1.0}));
    b.write("/s/block_seconds", at::tensor({2.0}));
    a.write("/s/shape", at::zeros({2, 3}));
    b.write("/s/shape", at::zeros({3, 2}));
    a.write_strings("/s/tokens", {"a", "b"});
    b.write_strings("/s/tokens", {"a", "b"});
    a.close();
    b.close();
  }
  auto diffs = diff_hdf5_files(dir / "a.h5", dir / "b.h5", Tolerances::defaults(false));
  auto d = by_name(diffs);
  CHECK(d.count("run.h5:/s/block_seconds") == 0);
  CHECK(d["run.h5:/s/x"].relative == Approx(0.001 / 20.0).epsilon(1e-3));
  CHECK(d["run.h5:/s/x"].differing == 1);
  CHECK(d["run.h5:/s/x"].agrees());
  CHECK_THAT(d["run.h5:/s/nan"].problem, Catch::Contains("NaN"));
  CHECK(d["run.h5:/s/ids"].relative == Approx(0.25));
  CHECK_FALSE(d["run.h5:/s/ids"].agrees());
  Tolerances some = Tolerances::defaults(false);
  some.add_override("run.h5:/s/i*=0.25");  // one of four ids may differ
  CHECK(by_name(diff_hdf5_files(dir / "a.h5", dir / "b.h5", some))["run.h5:/s/ids"].agrees());
  CHECK_THAT(d["run.h5:/s/shape"].problem, Catch::Contains("[2, 3]") && Catch::Contains("[3, 2]"));
  CHECK(d["run.h5:/s/tokens"].differing == 0);
  sort_by_severity(diffs);
  CHECK_FALSE(diffs.front().agrees());
  CHECK(diffs.back().differing == 0);
  // Across devices the float tolerance is looser: 5e-5 also passes a tighter float32 override.
  Tolerances tight = Tolerances::defaults(true);
  tight.add_override("run.h5:/s/x=1e-5");
  CHECK_FALSE(by_name(diff_hdf5_files(dir / "a.h5", dir / "b.h5", tight))["run.h5:/s/x"].agrees());
}
