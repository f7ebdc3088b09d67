// Section 4, learned: training finds catch, tag and release. Thresholds come from the measured
// runs of configs/paper/toy_learned.yaml (5 seeds per model; numbers in the issue note).
#include <ATen/ATen.h>

#include "tests/support/catch.h"
#include <filesystem>

#include "experiments/experiments.h"
#include "experiments/toy_learned/experiment.h"
#include "framework/util/error.h"
#include "framework/runner/runner.h"
#include "tests/support/temp_dir.h"

using namespace sinklab;
using namespace sinklab::toy_learned;

namespace {

struct Final {
  double mse, baseline, catch_mass, catch_any, tag_ratio, release_after, release_kl, qk_energy;
  std::int64_t tag_dim;
};

std::map<std::string, std::string> train_and_measure(const test::TempDir& dir, const Config& cfg) {
  Runner r(RunnerOptions{dir / "cache", {}, c10::Device(c10::DeviceType::CPU)});
  for (auto& s : ToyLearnedExperiment(cfg).stages()) r.add(std::move(s));
  std::map<std::string, std::string> entries;
  for (const auto& rec : r.run()) entries[rec.name] = rec.entry;
  return entries;
}

Final final_of(const std::map<std::string, std::string>& entries, const std::string& model, std::int64_t seed) {
  Hdf5File train(entries.at(ToyLearnedExperiment::stage_name(model, seed, "train")), Hdf5File::Mode::read);
  Hdf5File measure(entries.at(ToyLearnedExperiment::stage_name(model, seed, "measure")), Hdf5File::Mode::read);
  auto last = [](const at::Tensor& t) { return t[t.size(0) - 1]; };
  Final f{};
  f.mse = last(train.read("heldout_mse")).item<double>();
  f.baseline = train.read("baseline_mse").item<double>();
  f.catch_mass = last(measure.read("catch_mass"))[0].max().item<double>();
  f.catch_any = last(measure.read("catch_any_head"))[0].item<double>();
  f.tag_ratio = last(measure.read("tag_ratio")).item<double>();
  f.tag_dim = last(measure.read("tag_dim")).item<std::int64_t>();
  auto kl = last(measure.read("release_kl"));
  auto head = kl.argmin().item<std::int64_t>();
  f.release_kl = kl.min().item<double>();
  f.release_after = last(measure.read("release_mass"))[head][2].item<double>();
  auto energy = last(measure.read("qk_energy_top1"));  // 2-d: the one W_QK; wide: [layer-major heads]
  f.qk_energy = energy.numel() == 1 ? energy[0].item<double>() : energy[energy.numel() / 2 + head].item<double>();
  return f;
}

Config base_config() {
  Config c;
  c.task.min_length = 8;
  c.task.max_length = 32;
  return c;
}

}  // namespace

TEST_CASE("the trained 2-d model finds catch, tag and release with a rank-1 W_Q2 W_K2", "[toy_learned]") {
  test::TempDir dir;
  Config cfg = base_config();
  ModelRun run;
  run.model.kind = "toy-averaging-2d";
  run.model.s_tag_init = 4.0;
  run.train.steps = 3000;
  run.train.checkpoint_every = 1000;
  run.train.optimizer.kind = "adam";
  run.train.optimizer.lr = 0.05;
  run.train.optimizer.warmup_steps = 50;
  cfg.models = {{"toy2d", run}};
  cfg.seeds = {0, 1, 2, 3, 4};
  auto entries = train_and_measure(dir, cfg);
  int solved = 0;
  for (auto seed : cfg.seeds) {
    Final f = final_of(entries, "toy2d", seed);
    INFO("seed " << seed << ": mse " << f.mse << " baseline " << f.baseline);
    if (f.mse > 0.05 * f.baseline) continue;  // a seed that found no solution (measured: 1 in 5)
    ++solved;
    CHECK(f.catch_mass > 0.99);      // measured >= 0.9987
    CHECK(f.release_after > 0.98);   // measured >= 0.9899
    CHECK(f.release_kl < 0.03);      // measured <= 0.0122
    CHECK(f.qk_energy > 0.999);      // measured >= 0.9999: W_Q2 W_K2 is rank one
  }
  CHECK(solved >= 3);  // measured 4 of 5
  // The paper's outlier tag (|h_2| grows after [SEP]) is one of two solutions training finds;
  // the other marks the same tokens by shrinking |h_2|. Seed 0 finds the paper's.
  Final s0 = final_of(entries, "toy2d", 0);
  CHECK(s0.tag_dim == 1);
  CHECK(s0.tag_ratio > 3);  // measured 4.84
}

TEST_CASE("the trained wide toy solves the task with an outlier dimension and uniform retrieval", "[toy_learned]") {
  test::TempDir dir;
  Config cfg = base_config();
  ModelRun run;  // defaults: d_model 32, 4 heads, 2 layers
  run.train.steps = 3000;
  run.train.checkpoint_every = 1500;
  run.train.eval_sequences = 512;
  run.train.optimizer.lr = 0.003;
  run.train.optimizer.weight_decay = 0.1;
  cfg.models = {{"wide", run}};
  cfg.seeds = {4};
  // Interventions on the final model (toy_learned.wide.seed4.intervene): an identity, the tag
  // dimension zeroed after layer 1, layer 2's heads knocked out.
  auto edit = [](const std::string& site, std::vector<std::int64_t> layers, const std::string& op, double value = 0) {
    Ablation a;
    a.site = site;
    a.layers = std::move(layers);
    a.op = op;
    a.value = value;
    return a;
  };
  cfg.interventions["identity"].ablate = {edit("resid_post", {}, "scale", 1)};
  cfg.interventions["zero_tag"].ablate = {edit("resid_post", {0}, "zero")};
  cfg.interventions["zero_tag"].tag_dim = true;
  cfg.interventions["no_release"].ablate = {edit("z", {1}, "zero")};
  auto entries = train_and_measure(dir, cfg);
  Final f = final_of(entries, "wide", 4);
  {
    Hdf5File iv(entries.at(ToyLearnedExperiment::stage_name("wide", 4, "intervene")), Hdf5File::Mode::read);
    const auto tag = std::get<std::int64_t>(*iv.attr("/", "tag_dim"));
    CHECK(tag == f.tag_dim);
    const double clean = iv.read("clean/heldout_mse").item<double>();
    CHECK(clean == Approx(f.mse).epsilon(1e-6));  // the train stage's held-out MSE of the same checkpoint
    CHECK(iv.read("identity/heldout_mse").item<double>() == clean);
    CHECK(iv.read("zero_tag/tag_abs_after")[tag].item<double>() == 0.0);
    CHECK(iv.read("clean/tag_abs_after")[tag].item<double>() > 0.1);
    CHECK(iv.read("zero_tag/heldout_mse").item<double>() > 2 * clean);
    // Without layer 2's attention the read-out sees only layer 1's output: the average is lost.
    CHECK(iv.read("no_release/heldout_mse").item<double>() > 0.2 * f.baseline);
  }
  INFO("mse " << f.mse << " baseline " << f.baseline << " catch " << f.catch_mass << " tag " << f.tag_ratio
              << " release " << f.release_after << " kl " << f.release_kl << " qk " << f.qk_energy);
  // Measured over seeds 0-4 (seed 4 in brackets): MSE 0.0001-0.0023 vs baselines 0.136-0.178 (0.0001
  // vs 0.173); tag ratio 6.3-29.3 (29.3); release 0.969-0.997 (0.994); KL 0.004-0.081 (0.008);
  // best single layer-1 head's catch 0.50-0.99 (0.974) - two seeds split the sink over two heads,
  // each catching a different run of tokens - and per token over heads 0.948-0.991 (0.974);
  // top-1 energy of the retrieving W_QK 0.80-0.94 (0.90).
  CHECK(f.mse < 0.05 * f.baseline);
  CHECK(f.tag_ratio > 5);
  CHECK(f.release_after > 0.95);
  CHECK(f.release_kl < 0.1);
  CHECK(f.catch_mass > 0.9);
  CHECK(f.catch_any > 0.9);
  CHECK(f.qk_energy > 0.7);
}

TEST_CASE("toy interventions a toy cannot run are refused with the key", "[toy_learned][bad-input]") {
  test::TempDir dir;
  auto problem = [&](const std::string& models, const std::string& entry) {
    auto path = dir.write("c.yaml", "name: c\ntoy_learned:\n  models: " + models + "\n  interventions: {a: " + entry + "}\n");
    try {
      load_config<RunConfig>(path, {});
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  const std::string wide = "{wide: {model: {kind: toy-averaging}}}";
  CHECK_THAT(problem(wide, "{ablate: [{site: q}]}"), Catch::Contains("a toy computes ln1_normalized, pattern, z"));
  CHECK_THAT(problem(wide, "{tag_dim: true, ablate: [{site: z}]}"), Catch::Contains("the tag is a d_model dim"));
  CHECK_THAT(problem(wide, "{ablate: [{site: z, op: mean}]}"), Catch::Contains("toys take zero, scale, set and clamp"));
  CHECK_THAT(problem(wide, "{}"), Catch::Contains("give at least one edit"));
  CHECK_THAT(problem("{flat: {model: {kind: toy-averaging-2d}}}", "{ablate: [{site: z}]}"),
             Catch::Contains("every model is toy-averaging-2d"));
  CHECK(problem(wide, "{ablate: [{site: pattern, layers: [1], heads: [0], op: scale, value: 0.5}]}") == "accepted");
}
