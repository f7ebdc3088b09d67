// Pruned variants of tiny-phi3 through the stages: the checkpoints they write, their accounting,
// and the low-rank ablation (W' = (W - u v) on S's pattern in the chosen layer only).
#include <ATen/ATen.h>

#include "tests/support/catch.h"
#include <filesystem>

#include "experiments/checkpoint/experiment.h"
#include "experiments/experiments.h"
#include "experiments/pruning/part.h"
#include "framework/io/atomic_file.h"
#include "framework/io/checkpoint_dir.h"
#include "framework/io/safetensors.h"
#include "framework/runner/runner.h"
#include "tests/support/shared_dir.h"
#include "tests/support/temp_dir.h"
#include "tests/support/skip.h"

using namespace sinklab;
namespace fs = std::filesystem;

TEST_CASE("pruned and ablated tiny-phi3 variants: checkpoints, accounting, ablation", "[experiments][pruning]") {
  auto shared = test::shared_dir();
  if (!shared) {
    SINKLAB_SKIP("../shared not found (set SINKLAB_SHARED to the folder with golden/ and models/)");
  }
  test::TempDir dir;
  dir.write("calib/a.txt", std::string(2000, ' ') + "The harbour was quiet. Ships came home in the evening fog. " +
                               "The keeper lit the lamp and wrote the weather in his notebook every day.");
  auto config = dir.write("p.yaml", "name: p\nmodel: {path: " + *shared + "/models/tiny-phi3}\n"
                                    "calibration: {path: " + (dir / "calib") + ", samples: 4, seq_len: 32}\n"
                                    "prompts: [{id: s, text: \"It is a truth universally acknowledged.\"}]\n"
                                    "variants:\n  dense: {}\n"
                                    "  wanda: {prune: {method: wanda, sparsity: 0.5, pattern: \"2:4\"}}\n"
                                    "  oats: {prune: {method: oats, sparsity: 0.5, iterations: 3}}\n"
                                    "  ablated: {from: oats, ablate_lowrank: {layers: [1], matrices: [q, k, v]}}\n"
                                    "metrics: {weights: false}\n"
                                    "eval: {perplexity: {path: " + (dir / "calib/a.txt") + ", window: 32, stride: 16, max_tokens: 64}}\n");
  auto cfg = load_config<RunConfig>(config, {});
  Runner runner(RunnerOptions{dir / "cache", {}, c10::Device(c10::DeviceType::CPU)});
  auto experiments = add_experiment_stages(cfg.value, runner);
  std::map<std::string, StageRecord> rec;
  for (const auto& r : runner.run()) rec[r.name] = r;
  // Each variant's checkpoint was loaded once for its analysis stages (metrics.V and eval.V;
  // the prune/ablate stages load their own copies to edit).
  for (const char* v : {"dense", "wanda", "oats", "ablated"}) CHECK(rec.count(std::string("eval.") + v) == 1);
  CHECK(dynamic_cast<const checkpoint::CheckpointExperiment&>(*experiments.front()).pool().loads() == 4);
  REQUIRE(rec.count("calibrate"));
  CHECK(Hdf5File(rec["calibrate"].entry, Hdf5File::Mode::read).read("ids").sizes() == at::IntArrayRef({4, 32}));

  // wanda 2:4: exactly 2 of every 4 inputs kept in every pruned map, recorded in the json.
  const std::string wanda = rec["prune.wanda"].artifacts;
  auto report = nlohmann::json::parse(read_file(wanda + "/" + pruning::kPruningReport));
  CHECK(report["method"] == "wanda");
  CHECK(report["pruned_matrices"] == 6 * 7);
  CHECK(report["sparsity"].get<double>() >= 0.5);
  CheckpointDir pruned(wanda);
  auto down = pruned.tensor("model.layers.3.mlp.down_proj.weight").to(at::kFloat);
  CHECK(down.ne(0).view({down.size(0), -1, 4}).sum(2).le(2).all().item<bool>());
  CheckpointDir source(*shared + "/models/tiny-phi3");  // embeddings and the head are not pruned
  for (const char* n : {"model.embed_tokens.weight", "lm_head.weight", "model.layers.2.input_layernorm.weight"})
    CHECK(at::equal(pruned.tensor(n), source.tensor(n)));

  // OATS: factors beside the checkpoint; the ablation keeps only S in layer 1's q, k, v.
  const std::string oats = rec["prune.oats"].artifacts, ablated = rec["ablate.ablated"].artifacts;
  SafetensorsFile lowrank(oats + "/" + pruning::kLowRankFile);
  CheckpointDir o(oats), a(ablated);
  auto fused_o = o.tensor("model.layers.1.self_attn.qkv_proj.weight").to(at::kFloat);
  auto fused_a = a.tensor("model.layers.1.self_attn.qkv_proj.weight").to(at::kFloat);
  const std::int64_t D = 256;
  const char* parts[] = {"q_proj", "k_proj", "v_proj"};
  for (int p = 0; p < 3; ++p) {
    const std::string name = std::string("model.layers.1.self_attn.") + parts[p];
    auto u = lowrank.tensor(name + ".lowrank_u"), v = lowrank.tensor(name + ".lowrank_v");
    auto keep = lowrank.tensor(name + ".sparse_mask").to(at::kBool);
    auto want = (fused_o.narrow(0, p * D, D) - at::matmul(u, v)) * keep;
    CHECK(at::allclose(fused_a.narrow(0, p * D, D), want, 2e-2, 2e-2));
    CHECK(at::equal(fused_a.narrow(0, p * D, D).ne(0), keep & want.ne(0)));
  }
  CHECK(at::equal(a.tensor("model.layers.0.self_attn.qkv_proj.weight"), o.tensor("model.layers.0.self_attn.qkv_proj.weight")));
  CHECK(at::equal(a.tensor("model.layers.1.mlp.down_proj.weight"), o.tensor("model.layers.1.mlp.down_proj.weight")));
  // The analysis stages ran on each variant's own checkpoint.
  for (const char* v : {"metrics.dense", "metrics.wanda", "metrics.oats", "metrics.ablated"}) CHECK(rec.count(v));
  auto a_dense = Hdf5File(rec["metrics.dense"].entry, Hdf5File::Mode::read).read("prompts/s/sink_scores");
  auto a_wanda = Hdf5File(rec["metrics.wanda"].entry, Hdf5File::Mode::read).read("prompts/s/sink_scores");
  CHECK_FALSE(at::allclose(a_dense.nan_to_num(0), a_wanda.nan_to_num(0)));
}
