// GPT-2 on tiny checkpoints the test writes (Conv1D layout, names as transformers writes them).
#include <ATen/ATen.h>

#include "tests/support/catch.h"
#include <nlohmann/json.hpp>

#include "framework/io/atomic_file.h"
#include "framework/io/safetensors.h"
#include "framework/model/language_model.h"
#include "tests/support/temp_dir.h"

using namespace sinklab;

namespace {

const int64_t D = 16, V = 37, P = 32, L = 2, H = 4;

std::string write_gpt2(const test::TempDir& dir, const std::string& name, bool zero_blocks, uint64_t seed) {
  at::manual_seed(seed);
  auto w = [&](std::vector<int64_t> shape) { return zero_blocks ? at::zeros(shape) : at::randn(shape) * 0.3; };
  std::vector<std::pair<std::string, at::Tensor>> t{{"transformer.wte.weight", at::randn({V, D})},
                                                    {"transformer.wpe.weight", at::randn({P, D}) * 0.5},
                                                    {"transformer.ln_f.weight", at::ones({D})},
                                                    {"transformer.ln_f.bias", at::zeros({D})}};
  for (int64_t l = 0; l < L; ++l) {
    std::string p = "transformer.h." + std::to_string(l) + ".";
    t.push_back({p + "ln_1.weight", at::ones({D})});
    t.push_back({p + "ln_1.bias", at::zeros({D})});
    t.push_back({p + "attn.c_attn.weight", w({D, 3 * D})});
    t.push_back({p + "attn.c_attn.bias", w({3 * D})});
    t.push_back({p + "attn.c_proj.weight", w({D, D})});
    t.push_back({p + "attn.c_proj.bias", w({D})});
    t.push_back({p + "ln_2.weight", at::ones({D})});
    t.push_back({p + "ln_2.bias", at::zeros({D})});
    t.push_back({p + "mlp.c_fc.weight", w({D, 4 * D})});
    t.push_back({p + "mlp.c_fc.bias", w({4 * D})});
    t.push_back({p + "mlp.c_proj.weight", w({4 * D, D})});
    t.push_back({p + "mlp.c_proj.bias", w({D})});
    t.push_back({p + "attn.bias", at::ones({1, 1, P, P}).tril()});  // the causal-mask buffer old checkpoints carry
  }
  std::string path = dir / name;
  std::filesystem::create_directories(path);
  nlohmann::json cfg{{"model_type", "gpt2"}, {"vocab_size", V}, {"n_embd", D},          {"n_layer", L},
                     {"n_head", H},          {"n_positions", P}, {"layer_norm_epsilon", 1e-5}};
  write_file_atomic(path + "/config.json", cfg.dump());
  write_safetensors(path + "/model.safetensors", t);
  return path;
}

}  // namespace

TEST_CASE("gpt2 with empty blocks is LayerNorm(token + position embedding) through the tied head", "[model][gpt2]") {
  test::TempDir dir;
  auto path = write_gpt2(dir, "zero", true, 1);
  auto model = load_language_model(path);
  CHECK(model->spec().model_type == "gpt2");
  auto ids = at::tensor({3, 9, 27}, at::kLong).unsqueeze(0);
  SafetensorsFile f(path + "/model.safetensors");
  auto wte = f.tensor("transformer.wte.weight"), wpe = f.tensor("transformer.wpe.weight");
  auto h = wte.index_select(0, ids[0]) + wpe.narrow(0, 0, 3);
  auto normed = (h - h.mean(-1, true)) / (h.var(-1, false, true) + 1e-5).sqrt();
  CHECK(at::allclose(model->forward(ids)[0], at::matmul(normed, wte.t()), 1e-4, 1e-4));
}

TEST_CASE("gpt2 is causal, padding-invariant and its KV cache equals the full forward", "[model][gpt2]") {
  test::TempDir dir;
  auto model = load_language_model(write_gpt2(dir, "random", false, 2));
  at::manual_seed(3);
  auto ids = at::randint(0, V, {2, 10}, at::kLong);
  auto full = model->forward(ids);
  auto changed = ids.clone();
  changed[1][9] = (changed[1][9].item<int64_t>() + 1) % V;
  CHECK(at::allclose(model->forward(changed).narrow(1, 0, 9), full.narrow(1, 0, 9), 1e-5, 1e-5));
  KvCache cache;
  HookPoints none = HookPoints::none();
  std::vector<at::Tensor> parts{model->forward(ids.narrow(1, 0, 4), none, &cache)};
  for (int64_t t = 4; t < 10; ++t) parts.push_back(model->forward(ids.narrow(1, t, 1), none, &cache));
  CHECK(at::allclose(at::cat(parts, 1), full, 1e-4, 1e-5));
  auto alone = model->forward(ids.narrow(0, 0, 1).narrow(1, 0, 7))[0];
  auto left = at::cat({at::zeros({2, 3}, at::kLong), ids.narrow(1, 0, 7)}, 1);
  auto mask = at::cat({at::zeros({2, 3}, at::kLong), at::ones({2, 7}, at::kLong)}, 1);
  CHECK(at::allclose(model->forward(left, none, nullptr, mask)[0].narrow(0, 3, 7), alone, 1e-4, 1e-5));
  HookPoints hooks = HookPoints::only({hook_name(1, "pattern"), hook_name(1, "result"), hook_name(1, "attn_out")});
  model->forward(ids, hooks);
  CHECK(hooks.at(hook_name(1, "pattern")).sizes() == at::IntArrayRef({2, H, 10, 10}));
  // Per-head results through W_O add up to the attention output, minus its bias.
  SafetensorsFile f(dir / "random/model.safetensors");
  CHECK(at::allclose(hooks.at(hook_name(1, "result")).sum(2) + f.tensor("transformer.h.1.attn.c_proj.bias"),
                     hooks.at(hook_name(1, "attn_out")), 1e-4, 1e-5));
  CHECK(hooks.cache().size() == 3);  // nothing unrequested was kept

  // A probe of heads 1 and 3 keeps exactly those slices.
  HookPoints probe = HookPoints::only({hook_name(0, "pattern"), hook_name(0, "z")});
  probe.select_heads(hook_name(0, "pattern"), {1, 3});
  probe.select_heads(hook_name(0, "z"), {3});
  HookPoints everything = HookPoints::all();
  model->forward(ids, probe);
  model->forward(ids, everything);
  auto full_pattern = everything.at(hook_name(0, "pattern"));  // [B, H, T, T]
  CHECK(at::equal(probe.at(hook_name(0, "pattern")), at::stack({full_pattern.select(1, 1), full_pattern.select(1, 3)}, 1)));
  CHECK(at::equal(probe.at(hook_name(0, "z")), everything.at(hook_name(0, "z")).narrow(2, 3, 1)));
  probe.select_heads(hook_name(0, "pattern"), {7});
  CHECK_THROWS_WITH(model->forward(ids, probe), Catch::Contains("asks for head 7"));
  CHECK_THROWS_WITH(hook_name(0, "patern"), Catch::Contains("did you mean 'pattern'?"));
}
