// Parity with transformers: tiny-phi3 (../shared/models) against the logits, attention
// probabilities and hidden states transformers computed (../shared/golden/tiny-phi3).
#include <ATen/ATen.h>

#include "tests/support/catch.h"
#include <nlohmann/json.hpp>

#include "framework/io/atomic_file.h"
#include "framework/io/safetensors.h"
#include "framework/model/transformer_lm.h"
#include "framework/util/error.h"
#include "tests/support/shared_dir.h"
#include "tests/support/temp_dir.h"
#include "tests/support/skip.h"

using namespace sinklab;

static double max_abs_diff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

TEST_CASE("tiny-phi3 matches transformers: logits, every attention pattern and hidden state", "[model][parity]") {
  auto shared = test::shared_dir();
  if (!shared) {
    SINKLAB_SKIP("../shared not found (set SINKLAB_SHARED to the folder with golden/ and models/)");
  }
  auto model = TransformerLM::load(*shared + "/models/tiny-phi3", at::kFloat);
  CHECK(model.spec().model_type == "phi3");
  CHECK(model.spec().rope_theta == 10000.0);  // from the newer rope_parameters key
  SafetensorsFile golden(*shared + "/golden/tiny-phi3/golden.safetensors");
  auto meta = nlohmann::json::parse(read_file(*shared + "/golden/tiny-phi3/golden.json"));
  const int prompts = int(meta["prompts"].size());
  REQUIRE(prompts == 4);
  const int L = int(model.spec().num_layers);
  double worst_logit = 0, worst_attn = 0, worst_hidden = 0;
  for (int i = 0; i < prompts; ++i) {
    const std::string p = "p" + std::to_string(i) + ".";
    auto ids = golden.tensor(p + "input_ids").unsqueeze(0);
    HookPoints hooks = HookPoints::all();
    auto logits = model.forward(ids, hooks)[0];  // [T, V]
    auto want = golden.tensor(p + "logits");     // the last min(T, 32) positions
    worst_logit = std::max(worst_logit, max_abs_diff(logits.narrow(0, logits.size(0) - want.size(0), want.size(0)), want));
    for (int l = 0; l < L; ++l) {
      worst_attn = std::max(worst_attn, max_abs_diff(hooks.at(hook_name(l, "pattern"))[0], golden.tensor(p + "attn." + std::to_string(l))));
      worst_hidden = std::max(worst_hidden, max_abs_diff(hooks.at(hook_name(l, "resid_pre"))[0], golden.tensor(p + "hidden." + std::to_string(l))));
    }
    worst_hidden = std::max(worst_hidden, max_abs_diff(hooks.at("ln_final.hook_normalized")[0], golden.tensor(p + "hidden." + std::to_string(L))));
  }
  INFO("tiny-phi3 parity: max |dlogit| " << worst_logit << ", max |dattention| " << worst_attn << ", max |dhidden| " << worst_hidden);
  CHECK(worst_logit <= 1e-4);
  CHECK(worst_attn <= 1e-5);
  CHECK(worst_hidden <= 1e-3);
}

TEST_CASE("a checkpoint directory with a missing shard or a wrong shape is refused with its name", "[model][bad-input]") {
  auto shared = test::shared_dir();
  if (!shared) {
    SINKLAB_SKIP("../shared not found");
  }
  test::TempDir dir;
  namespace fs = std::filesystem;
  const std::string src = *shared + "/models/tiny-phi3";
  fs::copy_file(src + "/config.json", dir / "config.json");
  fs::copy_file(src + "/model.safetensors.index.json", dir / "model.safetensors.index.json");
  fs::copy_file(src + "/model-00001-of-00002.safetensors", dir / "model-00001-of-00002.safetensors");
  CHECK_THROWS_WITH(TransformerLM::load(dir.path()), Catch::Contains("model-00002-of-00002.safetensors") &&
                                                     Catch::Contains("missing"));
  fs::copy_file(src + "/model-00002-of-00002.safetensors", dir / "model-00002-of-00002.safetensors");
  auto cfg = nlohmann::json::parse(read_file(dir / "config.json"));
  cfg["intermediate_size"] = 512;
  write_file_atomic(dir / "config.json", cfg.dump());
  CHECK_THROWS_WITH(TransformerLM::load(dir.path()), Catch::Contains("mlp.down_proj.weight") && Catch::Contains("config.json implies [256, 512]"));
  cfg["model_type"] = "gpt-j";
  write_file_atomic(dir / "config.json", cfg.dump());
  CHECK_THROWS_WITH(TransformerLM::load(dir.path()), Catch::Contains("not supported; supported: llama, mistral, qwen2, qwen3, phi3"));
}
