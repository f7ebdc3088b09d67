// Theorem 4.1's limits, asserted on the experiment's own stage outputs: as s_tag grows,
// f(x) -> mean of the numbers after [SEP]; catch mass -> 1; the tag coordinate grows like s_tag
// and is the outlier dimension; layer 2 retrieves uniformly over the tagged tokens.
#include <ATen/ATen.h>

#include "tests/support/catch.h"
#include <filesystem>

#include "experiments/experiments.h"
#include "experiments/theorem41/experiment.h"
#include "framework/runner/runner.h"
#include "tests/support/temp_dir.h"

using namespace sinklab;

namespace {

struct Outputs {
  std::map<std::string, std::string> entries;
  at::Tensor get(const std::string& stage, const std::string& name) const {
    return Hdf5File(entries.at(stage), Hdf5File::Mode::read).read(name);
  }
};

Outputs run_theorem(const test::TempDir& dir, const theorem41::Config& cfg, std::int64_t seed = 0) {
  Runner r(RunnerOptions{dir / "cache", {}, c10::Device(c10::DeviceType::CPU)});
  for (auto& s : theorem41::Theorem41Experiment(cfg, seed).stages()) r.add(std::move(s));
  Outputs out;
  for (const auto& rec : r.run()) out.entries[rec.name] = rec.entry;
  return out;
}

theorem41::Config small_config() {
  theorem41::Config c;
  c.data.count = 512;
  c.data.max_length = 32;
  c.s_tag = {2.0, 40.0, 20, "linear"};
  return c;
}

}  // namespace

TEST_CASE("Theorem 4.1: the limits hold at large s_tag", "[theorem41]") {
  test::TempDir dir;
  auto cfg = small_config();
  auto out = run_theorem(dir, cfg);
  const auto last = int64_t(cfg.s_tag.num - 1);
  const double s_tag = cfg.s_tag.stop;
  auto at_last = [&](const char* name) { return out.get("theorem41.sweep", name)[last].item<double>(); };

  // f(x) -> (1 / (T - t)) * sum_{i > t} x_i
  CHECK(at_last("error_mean") < 1e-6);
  CHECK(at_last("error_max") < 1e-3);
  // catch: tokens after [SEP] put all their layer-1 attention on it
  CHECK(at_last("catch_mass_mean") > 1 - 1e-12);
  CHECK(at_last("catch_mass_min") > 1 - 1e-9);
  // tag: h_i[1] = A1[i, t] (s_tag - 1) -> s_tag - 1 after [SEP]; exactly 0 before it
  CHECK(at_last("tag_after_mean") == Approx(s_tag - 1).epsilon(1e-9));
  CHECK(std::fabs(at_last("tag_before_mean")) < 1e-12);
  CHECK(out.get("theorem41.sweep", "outlier_dim")[last].item<int64_t>() == 1);
  CHECK(at_last("outlier_ratio") > 10);
  // release / retrieve: A2[T, j] -> 0 (j < t), 0 (j = t), 1 / (T - t) (j > t)
  CHECK(at_last("release_before") < 1e-9);
  CHECK(at_last("release_sep") < 1e-9);
  CHECK(at_last("release_after_min") > 1 - 1e-9);
  CHECK(at_last("uniform_max_dev") < 1e-4);
}

TEST_CASE("Theorem 4.1: the error shrinks and the tag grows as s_tag increases", "[theorem41]") {
  test::TempDir dir;
  auto cfg = small_config();
  auto out = run_theorem(dir, cfg);
  auto err = out.get("theorem41.sweep", "error_mean");
  auto tag = out.get("theorem41.sweep", "tag_after_mean");
  auto catch_mass = out.get("theorem41.sweep", "catch_mass_mean");
  // Compare every fourth point: the trend, not a single lucky pair.
  for (int64_t i = 4; i < cfg.s_tag.num; i += 4) {
    CHECK(err[i].item<double>() < err[i - 4].item<double>());
    CHECK(tag[i].item<double>() > tag[i - 4].item<double>());
    CHECK(catch_mass[i].item<double>() >= catch_mass[i - 4].item<double>());
  }
  // At small s_tag the mechanism is not yet there: the average is visibly wrong.
  CHECK(err[0].item<double>() > 0.05);
}

TEST_CASE("Theorem 4.1: the example sequence reproduces Figure 6's attention pattern", "[theorem41]") {
  test::TempDir dir;
  auto cfg = small_config();
  cfg.example = {12, 4, 20.0};
  auto out = run_theorem(dir, cfg);
  auto A1 = out.get("theorem41.example", "A1");  // [12, 12]
  REQUIRE(A1.sizes() == at::IntArrayRef({12, 12}));
  const int64_t t = 3;  // 0-based [SEP]
  CHECK(at::allclose(A1.sum(1), at::ones({12}, at::kDouble)));
  CHECK(at::equal(A1.triu(1), at::zeros_like(A1)));  // causal
  for (int64_t i = t; i < 12; ++i) CHECK(A1[i][t].item<double>() > 1 - 1e-6);  // [SEP] column: the sink
  for (int64_t i = 1; i < t; ++i) CHECK(A1[i][0].item<double>() < 0.99);  // before [SEP]: O(1), no sink
  CHECK(out.get("theorem41.example", "f").item<double>() ==
        Approx(out.get("theorem41.example", "target").item<double>()).margin(1e-4));
}

TEST_CASE("Theorem 4.1: sequences are reproducible from the seed and respect the SEP bounds", "[theorem41]") {
  test::TempDir a, b;
  auto cfg = small_config();
  cfg.data.min_before = 2;
  cfg.data.min_after = 3;
  cfg.s_tag.num = 2;
  auto x1 = run_theorem(a, cfg, 5), x2 = run_theorem(b, cfg, 5);
  CHECK(at::equal(x1.get("theorem41.sequences", "x"), x2.get("theorem41.sequences", "x")));
  auto len = x1.get("theorem41.sequences", "length"), sep = x1.get("theorem41.sequences", "sep");
  CHECK(len.min().item<int64_t>() >= cfg.data.min_length);
  CHECK(len.max().item<int64_t>() <= cfg.data.max_length);
  CHECK(sep.min().item<int64_t>() >= 2);
  CHECK((len - 1 - sep).min().item<int64_t>() >= 3);
  // Both ends of the allowed SEP range occur (the draw covers it).
  CHECK((sep == 2).any().item<bool>());
  CHECK(((len - 1 - sep) == 3).any().item<bool>());
}

TEST_CASE("Theorem 4.1: the report renders its figures from run.h5", "[theorem41]") {
  test::TempDir dir;
  auto cfg = small_config();
  theorem41::Theorem41Experiment exp(cfg, 0);
  auto out = run_theorem(dir, cfg);
  {
    Hdf5File run(dir / "run.h5", Hdf5File::Mode::create);
    for (const auto& [stage, entry] : out.entries)
      Hdf5File(entry, Hdf5File::Mode::read).copy_group_to("/", run, "/" + stage);
  }
  std::filesystem::create_directories(dir / "figures");
  nlohmann::ordered_json summary;
  Hdf5File run(dir / "run.h5", Hdf5File::Mode::read);
  exp.report(RunView(run), dir / "figures", summary);
  for (const char* f : {"theorem41_error_vs_stag", "theorem41_layer1_attention", "theorem41_mechanism_vs_stag"})
    for (const char* ext : {".png", ".svg"}) CHECK(std::filesystem::file_size(dir / ("figures/" + std::string(f) + ext)) > 1000);
  CHECK(summary["theorem41"]["outlier_dim"] == 1);
  CHECK(summary["theorem41"]["error_mean"].get<double>() < 1e-6);
}
