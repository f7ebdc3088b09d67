// Invariance checks: a stage rerun with another thread count or batch size, compared with its own
// output - a stage whose numbers depend on the thread count is caught, an invariant one passes.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>

#include "tests/support/catch.h"

#include "framework/io/hdf5_store.h"
#include "framework/runner/invariance_check.h"
#include "framework/runner/provenance.h"
#include "framework/runner/runner.h"
#include "tests/support/temp_dir.h"

using namespace sinklab;
using sinklab::test::TempDir;

namespace {

// Writes [1, 2, 3] * scale, where scale comes from `value_of_threads` (1 for an invariant stage)
// or from the batch size of this copy.
class ProbeStage : public Stage {
 public:
  ProbeStage(bool depends_on_threads, int batch) : depends_on_threads_(depends_on_threads), batch_(batch) {}
  std::string name() const override { return depends_on_threads_ ? "probe.threads" : "probe.steady"; }
  int version() const override { return 1; }
  nlohmann::ordered_json reads() const override { return {{"batch", batch_}}; }
  bool checked_for_thread_invariance() const override { return true; }
  std::unique_ptr<Stage> rebatched(std::string& condition) const override {
    condition = "batch 1 -> 2";
    return std::make_unique<ProbeStage>(depends_on_threads_, 2);
  }
  void run(StageContext& ctx) const override {
    const double scale = depends_on_threads_ ? 1.0 + 1e-3 * at::get_num_threads() : 1.0;
    ctx.output().write("values", at::tensor({1.0, 2.0, 3.0}, at::kFloat) * scale);
    ctx.output().write("ids", at::tensor({std::int64_t(7), std::int64_t(batch_ > 1 && depends_on_threads_ ? 8 : 7)}));
  }

 private:
  bool depends_on_threads_;
  int batch_;
};

}  // namespace

TEST_CASE("invariance checks catch a stage whose numbers move with the thread count or batch size", "[runner][checks]") {
  TempDir dir;
  const int threads = at::get_num_threads();
  Runner runner(RunnerOptions{dir / "cache", {}, c10::Device(c10::DeviceType::CPU)});
  runner.add(std::make_unique<ProbeStage>(true, 1));
  runner.add(std::make_unique<ProbeStage>(false, 1));
  InvarianceChecks checks;
  checks.thread_invariance = checks.batch_invariance = true;
  add_invariance_checks(checks, threads, runner);
  const auto names = runner.stage_names();
  for (const char* n : {"check.threads.probe.threads", "check.batch.probe.threads", "check.threads.probe.steady",
                        "check.batch.probe.steady"})
    CHECK(std::find(names.begin(), names.end(), n) != names.end());
  const auto records = runner.run();
  CHECK(at::get_num_threads() == threads);  // put back after the rerun

  ProvenanceInput in;
  in.stages = records;
  const auto provenance = build_provenance(in);
  REQUIRE(provenance.contains("checks"));
  std::map<std::string, nlohmann::ordered_json> by_check;
  for (const auto& c : provenance["checks"]) by_check[c["check"].get<std::string>()] = c;
  REQUIRE(by_check.size() == 4);
  // 1 + 1e-3 t: threads t -> t' changes every value by |t - t'| 1e-3 / (1 + 1e-3 t) relative.
  const int other = threads > 1 ? 1 : 2;
  const auto& moved = by_check["check.threads.probe.threads"];
  CHECK_FALSE(moved["within_tolerance"].get<bool>());
  CHECK(moved["condition"] == fmt::format("threads {} -> {}", threads, other));
  CHECK(moved["worst_dataset"] == "/values");
  CHECK(moved["max_relative_difference"].get<double>() ==
        Approx(std::abs(threads - other) * 1e-3 / (1 + 1e-3 * threads)).epsilon(1e-3));
  // The batch copy changes an integer: exact quantities must be equal.
  const auto& rebatched = by_check["check.batch.probe.threads"];
  CHECK_FALSE(rebatched["within_tolerance"].get<bool>());
  CHECK(rebatched["worst_dataset"] == "/ids");
  CHECK(rebatched["max_relative_difference"].get<double>() == Approx(0.5));  // 1 of 2 ids differ
  for (const char* steady : {"check.threads.probe.steady", "check.batch.probe.steady"}) {
    CHECK(by_check[steady]["within_tolerance"].get<bool>());
    CHECK(by_check[steady]["max_relative_difference"].get<double>() == 0.0);
  }
  // A tolerance that covers the thread effect lets it pass (a new cache key: the check reruns).
  Runner loose(RunnerOptions{dir / "cache", {}, c10::Device(c10::DeviceType::CPU)});
  loose.add(std::make_unique<ProbeStage>(true, 1));
  checks.batch_invariance = false;
  checks.tolerance = 0.01;
  add_invariance_checks(checks, threads, loose);
  ProvenanceInput again;
  again.stages = loose.run();
  CHECK(build_provenance(again)["checks"][0]["within_tolerance"].get<bool>());
}
