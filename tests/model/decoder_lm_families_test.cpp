// TransformerLM on llama-family checkpoints the test writes itself (names and shapes
// exactly as transformers writes them): masking, padding, KV cache and fused-weight invariants.
#include <ATen/ATen.h>

#include "tests/support/catch.h"
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "framework/io/atomic_file.h"
#include "framework/io/safetensors.h"
#include "framework/model/transformer_lm.h"
#include "framework/util/error.h"
#include "tests/model/tiny_checkpoint.h"
#include "tests/support/temp_dir.h"

using namespace sinklab;

namespace {

const int64_t D = 32, I = 48, V = 61, L = 2, H = 4, HD = 8;

// Random llama-layout weights; `kv` key/value heads.
std::vector<std::pair<std::string, at::Tensor>> llama_weights(int64_t kv, bool bias, uint64_t seed) {
  at::manual_seed(seed);
  std::vector<std::pair<std::string, at::Tensor>> w{{"model.embed_tokens.weight", at::randn({V, D})},
                                                    {"model.norm.weight", 1 + 0.1 * at::randn({D})},
                                                    {"lm_head.weight", at::randn({V, D}) * 0.2}};
  for (int64_t l = 0; l < L; ++l) {
    std::string p = "model.layers." + std::to_string(l) + ".";
    w.push_back({p + "input_layernorm.weight", 1 + 0.1 * at::randn({D})});
    w.push_back({p + "post_attention_layernorm.weight", 1 + 0.1 * at::randn({D})});
    w.push_back({p + "self_attn.q_proj.weight", at::randn({H * HD, D}) * 0.3});
    w.push_back({p + "self_attn.k_proj.weight", at::randn({kv * HD, D}) * 0.3});
    w.push_back({p + "self_attn.v_proj.weight", at::randn({kv * HD, D}) * 0.3});
    w.push_back({p + "self_attn.o_proj.weight", at::randn({D, H * HD}) * 0.2});
    w.push_back({p + "mlp.gate_proj.weight", at::randn({I, D}) * 0.2});
    w.push_back({p + "mlp.up_proj.weight", at::randn({I, D}) * 0.2});
    w.push_back({p + "mlp.down_proj.weight", at::randn({D, I}) * 0.2});
    if (bias)
      for (const char* m : {"q", "k", "v"})
        w.push_back({p + "self_attn." + m + "_proj.bias", at::randn({(std::string(m) == "q" ? H : kv) * HD}) * 0.1});
  }
  return w;
}

std::string write_checkpoint(const test::TempDir& dir, const std::string& name, const std::string& type, int64_t kv,
                             const std::vector<std::pair<std::string, at::Tensor>>& weights, nlohmann::json extra = {}) {
  std::string path = dir / name;
  std::filesystem::create_directories(path);
  nlohmann::json cfg{{"model_type", type},       {"vocab_size", V},       {"hidden_size", D},
                     {"intermediate_size", I},   {"num_hidden_layers", L}, {"num_attention_heads", H},
                     {"num_key_value_heads", kv}, {"rms_norm_eps", 1e-5},   {"rope_theta", 10000.0}};
  for (auto it = extra.begin(); it != extra.end(); ++it) cfg[it.key()] = it.value();
  write_file_atomic(path + "/config.json", cfg.dump(2));
  write_safetensors(path + "/model.safetensors", weights);
  return path;
}

// Phi-3's layout of the same weights: q/k/v and gate/up fused.
std::vector<std::pair<std::string, at::Tensor>> fuse_for_phi3(const std::vector<std::pair<std::string, at::Tensor>>& w) {
  std::map<std::string, at::Tensor> m(w.begin(), w.end());
  std::vector<std::pair<std::string, at::Tensor>> out{{"model.embed_tokens.weight", m["model.embed_tokens.weight"]},
                                                      {"model.norm.weight", m["model.norm.weight"]},
                                                      {"lm_head.weight", m["lm_head.weight"]}};
  for (int64_t l = 0; l < L; ++l) {
    std::string p = "model.layers." + std::to_string(l) + ".";
    for (const char* n : {"input_layernorm.weight", "post_attention_layernorm.weight", "self_attn.o_proj.weight",
                          "mlp.down_proj.weight"})
      out.push_back({p + n, m[p + n]});
    out.push_back({p + "self_attn.qkv_proj.weight",
                   at::cat({m[p + "self_attn.q_proj.weight"], m[p + "self_attn.k_proj.weight"], m[p + "self_attn.v_proj.weight"]})});
    out.push_back({p + "mlp.gate_up_proj.weight", at::cat({m[p + "mlp.gate_proj.weight"], m[p + "mlp.up_proj.weight"]})});
  }
  return out;
}

at::Tensor random_ids(int64_t B, int64_t T, uint64_t seed) {
  at::manual_seed(seed);
  return at::randint(0, V, {B, T}, at::kLong);
}

}  // namespace

TEST_CASE("llama, mistral, qwen2 and phi3 checkpoints: causal, padding-invariant, KV cache equals full forward",
          "[model][families]") {
  test::TempDir dir;
  struct Case {
    std::string type;
    int64_t kv;
    bool bias;
    nlohmann::json extra;
  };
  for (const auto& c : std::vector<Case>{{"llama", 2, false, {}},  // grouped-query: 2 K/V heads for 4 query heads
                                         {"mistral", 4, false, {{"sliding_window", 5}}},
                                         {"qwen2", 2, true, {}},
                                         {"phi3", 4, false, {{"rope_parameters", {{"rope_theta", 500.0}, {"partial_rotary_factor", 0.5}}}}}}) {
    INFO(c.type);
    auto weights = llama_weights(c.kv, c.bias, 1);
    auto model = TransformerLM::load(write_checkpoint(dir, c.type, c.type, c.kv, c.type == "phi3" ? fuse_for_phi3(weights) : weights, c.extra));
    auto ids = random_ids(2, 9, 2);
    auto full = model.forward(ids);  // [2, 9, V]

    // Causal: changing the last token changes nothing before it.
    auto changed = ids.clone();
    changed[0][8] = (changed[0][8].item<int64_t>() + 1) % V;
    CHECK(at::allclose(model.forward(changed).narrow(1, 0, 8), full.narrow(1, 0, 8), 1e-5, 1e-5));

    // KV cache: a 5-token prefix, then one token at a time, equals the full forward.
    KvCache cache;
    HookPoints none = HookPoints::none();
    std::vector<at::Tensor> parts{model.forward(ids.narrow(1, 0, 5), none, &cache)};
    for (int64_t t = 5; t < 9; ++t) parts.push_back(model.forward(ids.narrow(1, t, 1), none, &cache));
    CHECK(cache.length() == 9);
    CHECK(at::allclose(at::cat(parts, 1), full, 1e-4, 1e-5));

    // Padding: sequence 1 cut to 6 tokens, right-padded or left-padded with a mask, equals it alone.
    auto alone = model.forward(ids.narrow(0, 1, 1).narrow(1, 0, 6))[0];  // [6, V]
    auto right = at::cat({ids.narrow(1, 0, 6), at::zeros({2, 3}, at::kLong)}, 1);
    auto right_mask = at::cat({at::ones({2, 6}, at::kLong), at::zeros({2, 3}, at::kLong)}, 1);
    CHECK(at::allclose(model.forward(right, none, nullptr, right_mask)[1].narrow(0, 0, 6), alone, 1e-4, 1e-5));
    auto left = at::cat({at::zeros({2, 3}, at::kLong), ids.narrow(1, 0, 6)}, 1);
    auto left_mask = at::cat({at::zeros({2, 3}, at::kLong), at::ones({2, 6}, at::kLong)}, 1);
    CHECK(at::allclose(model.forward(left, none, nullptr, left_mask)[1].narrow(0, 3, 6), alone, 1e-4, 1e-5));
  }
}

TEST_CASE("phi3's fused qkv/gate_up weights give exactly the split llama computation", "[model][families]") {
  test::TempDir dir;
  auto weights = llama_weights(4, false, 7);
  auto llama = TransformerLM::load(write_checkpoint(dir, "llama", "llama", 4, weights));
  auto phi3 = TransformerLM::load(write_checkpoint(dir, "phi3", "phi3", 4, fuse_for_phi3(weights)));
  auto ids = random_ids(1, 12, 3);
  CHECK(at::equal(llama.forward(ids), phi3.forward(ids)));
}

TEST_CASE("greedy generation with the cache equals re-running the whole sequence", "[model][families]") {
  test::TempDir dir;
  auto model = TransformerLM::load(write_checkpoint(dir, "llama", "llama", 2, llama_weights(2, false, 5)));
  auto out = model.generate_greedy({3, 14, 15}, 6);
  REQUIRE(out.size() == 9);
  for (std::size_t t = 3; t < out.size(); ++t) {
    std::vector<int64_t> prefix(out.begin(), out.begin() + std::ptrdiff_t(t));
    auto logits = model.forward(at::tensor(prefix, at::kLong).unsqueeze(0));
    CHECK(logits[0][int64_t(t) - 1].argmax().item<int64_t>() == out[t]);
  }
}

TEST_CASE("a cached prompt prefix can be reused for several continuations", "[model][families]") {
  test::TempDir dir;
  auto model = TransformerLM::load(write_checkpoint(dir, "llama", "llama", 2, llama_weights(2, false, 9)));
  auto prefix = random_ids(1, 6, 4), a = random_ids(1, 3, 5), b = random_ids(1, 4, 6);
  HookPoints none = HookPoints::none();
  KvCache shared;
  model.forward(prefix, none, &shared);
  for (const auto& suffix : {a, b}) {
    KvCache cache = shared;  // appending builds new tensors, so the shared prefix stays intact
    auto continued = model.forward(suffix, none, &cache);
    auto full = model.forward(at::cat({prefix, suffix}, 1)).narrow(1, 6, suffix.size(1));
    CHECK(at::allclose(continued, full, 1e-4, 1e-5));
  }
  CHECK(shared.length() == 6);
}

TEST_CASE("attention weights are the checkpoint's projections, split for phi3", "[model][families]") {
  test::TempDir dir;
  auto weights = llama_weights(2, false, 9);
  std::map<std::string, at::Tensor> m(weights.begin(), weights.end());
  auto phi3 = TransformerLM::load(write_checkpoint(dir, "phi3", "phi3", 2, fuse_for_phi3(weights)));
  auto w = phi3.attention_weights(1);
  CHECK(at::equal(w.q, m["model.layers.1.self_attn.q_proj.weight"]));
  CHECK(at::equal(w.k, m["model.layers.1.self_attn.k_proj.weight"]));
  CHECK(at::equal(w.v, m["model.layers.1.self_attn.v_proj.weight"]));
  CHECK(at::equal(w.o, m["model.layers.1.self_attn.o_proj.weight"]));
  CHECK_THROWS_AS(phi3.attention_weights(L), InputError);
}

TEST_CASE("streaming hooks hand over exactly what a caching forward keeps", "[model][families][hooks]") {
  test::TempDir dir;
  auto model = TransformerLM::load(write_checkpoint(dir, "llama", "llama", 2, llama_weights(2, false, 5)));
  auto ids = random_ids(1, 9, 4);
  std::set<std::string> names{hook_name(0, "pattern"), hook_name(1, "resid_post")};
  HookPoints kept = HookPoints::only(names);
  model.forward(ids, kept);
  std::map<std::string, at::Tensor> streamed;
  HookPoints stream = HookPoints::streaming(names, [&](const std::string& n, const at::Tensor& t) { streamed[n] = t.clone(); });
  model.forward(ids, stream);
  REQUIRE(streamed.size() == 2);
  CHECK(stream.cache().empty());
  for (const auto& n : names) CHECK(at::equal(streamed.at(n), kept.at(n)));
}

TEST_CASE("a bfloat16 forward pass runs and stays close to float32", "[model][families]") {
  // Regression: the attention mask used float32's lowest value, which overflows bfloat16.
  test::TempDir dir;
  auto path = write_checkpoint(dir, "llama", "llama", 4, llama_weights(4, false, 11));
  auto f32 = TransformerLM::load(path), bf16 = TransformerLM::load(path, at::kBFloat16);
  auto ids = random_ids(2, 10, 6);
  HookPoints a = HookPoints::only({hook_name(1, "pattern")}), b = HookPoints::only({hook_name(1, "pattern")});
  f32.forward(ids, a);
  bf16.forward(ids, b);
  CHECK((a.at(hook_name(1, "pattern")) - b.at(hook_name(1, "pattern")).to(at::kFloat)).abs().max().item<double>() < 0.05);
}

TEST_CASE("qwen3 normalizes each query and key head before RoPE; causal, and the KV cache equals the full forward",
          "[model][families][qwen3]") {
  test::TempDir dir;
  auto ckpt = test::write_tiny_checkpoint(dir, "qwen3", 7, at::kFloat);
  auto model = TransformerLM::load(ckpt.dir);
  REQUIRE(model.spec().head_dim == 12);  // config.json's head_dim, not hidden_size / heads (8)
  auto ids = random_ids(2, 9, 8);
  HookPoints hooks = HookPoints::all();
  auto full = model.forward(ids, hooks);
  for (int l = 0; l < 2; ++l) {
    // By hand: each head's d_head values divided by their root mean square (eps 1e-5), times q_norm.
    const auto n = "." + std::to_string(l);
    for (const auto& [raw, normed, weight] : {std::tuple<const char*, const char*, std::string>{"q", "q_normed", "q_norm" + n},
                                              {"k", "k_normed", "k_norm" + n}}) {
      const at::Tensor x = hooks.at(hook_name(l, raw));  // [B, T, heads, 12]
      const at::Tensor want = x / (x.pow(2).mean(-1, true) + 1e-5).sqrt() * ckpt.logical.at(weight);
      CHECK((hooks.at(hook_name(l, normed)) - want).abs().max().item<double>() < 1e-5);
    }
    // RoPE rotates the normed heads: each rotated pair keeps the normed pair's length.
    const at::Tensor q = hooks.at(hook_name(l, "q_normed")), rq = hooks.at(hook_name(l, "rot_q"));
    auto pair_norm = [](const at::Tensor& t) { return t.narrow(-1, 0, 6).pow(2) + t.narrow(-1, 6, 6).pow(2); };
    CHECK(at::allclose(pair_norm(rq), pair_norm(q), 1e-4, 1e-5));
  }
  auto changed = ids.clone();
  changed[0][8] = (changed[0][8].item<int64_t>() + 1) % ckpt.vocab;
  CHECK(at::allclose(model.forward(changed).narrow(1, 0, 8), full.narrow(1, 0, 8), 1e-5, 1e-5));
  KvCache cache;
  HookPoints none = HookPoints::none();
  std::vector<at::Tensor> parts{model.forward(ids.narrow(1, 0, 5), none, &cache)};
  for (int64_t t = 5; t < 9; ++t) parts.push_back(model.forward(ids.narrow(1, t, 1), none, &cache));
  CHECK(at::allclose(at::cat(parts, 1), full, 1e-4, 1e-5));
  // A family without q/k norms has no such sites.
  auto llama = TransformerLM::load(write_checkpoint(dir, "llama", "llama", 2, llama_weights(2, false, 1)));
  HookPoints all = HookPoints::all();
  llama.forward(ids, all);
  CHECK(all.cache().count(hook_name(0, "q_normed")) == 0);
}
