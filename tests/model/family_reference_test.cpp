// Every tiny family (tiny_checkpoint.h) against the independent float64 forward pass
// (reference_forward.h), and the invariants of what the newer families add: soft-capping bounds,
// per-layer sliding windows against a brute-force mask, bounded KV caches, GPT-NeoX's per-head
// fused qkv, the config keys that switch these on.
#include <ATen/ATen.h>

#include "tests/support/catch.h"
#include <nlohmann/json.hpp>
#include <tuple>

#include "framework/eval/loglikelihood.h"
#include "framework/io/atomic_file.h"
#include "framework/model/transformer_lm.h"
#include "framework/util/error.h"
#include "tests/model/reference_forward.h"
#include "tests/model/tiny_checkpoint.h"
#include "tests/support/temp_dir.h"

using namespace sinklab;

namespace {

at::Tensor random_ids(std::int64_t B, std::int64_t T, std::int64_t vocab, std::uint64_t seed) {
  at::manual_seed(seed);
  return at::randint(0, vocab, {B, T}, at::kLong);
}

double max_abs(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

}  // namespace

TEST_CASE("every family's logits equal an independent float64 forward pass", "[model][families][reference]") {
  test::TempDir dir;
  for (const auto& type : test::tiny_families()) {
    if (type == "gpt2") continue;  // learned positions: gpt2_test.cpp holds it to transformers' goldens
    INFO(type);
    auto ckpt = test::write_tiny_checkpoint(dir, type, 21, at::kFloat);
    auto model = TransformerLM::load(ckpt.dir);
    auto ids = random_ids(2, 11, ckpt.vocab, 3);  // longer than every window
    const at::Tensor got = model.forward(ids), want = test::reference_logits(ckpt, type, ids);
    CHECK(max_abs(got, want) < 1e-4);
    CHECK(want.abs().max().item<double>() > 0.5);  // not a trivially small output
  }
}

TEST_CASE("a bounded KV cache, step by step, equals the full forward; sliding layers keep window - 1 keys",
          "[model][families][reference]") {
  test::TempDir dir;
  for (const auto& type : test::tiny_families()) {
    INFO(type);
    auto ckpt = test::write_tiny_checkpoint(dir, type, 22, at::kFloat);
    auto model = TransformerLM::load(ckpt.dir);
    auto ids = random_ids(1, 12, ckpt.vocab, 4);
    const at::Tensor full = model.forward(ids);
    KvCache cache;
    cache.bounded = true;
    HookPoints none = HookPoints::none();
    std::vector<at::Tensor> parts{model.forward(ids.narrow(1, 0, 3), none, &cache)};
    for (std::int64_t t = 3; t < 12; ++t) parts.push_back(model.forward(ids.narrow(1, t, 1), none, &cache));
    CHECK(max_abs(at::cat(parts, 1), full) < 1e-4);
    CHECK(cache.length() == 12);
    for (std::int64_t l = 0; l < model.spec().num_layers; ++l)
      CHECK(cache.k[std::size_t(l)].size(2) == (model.spec().slides(l) ? *model.spec().sliding_window - 1 : 12));
  }
}

TEST_CASE("make_attention_masking equals a brute-force mask, with a cache offset and a window", "[model][attention]") {
  for (std::int64_t window : {0, 1, 3, 20}) {
    for (std::int64_t cached : {0, 4}) {
      const std::int64_t T = 6, total = cached + T;
      auto ids = at::zeros({1, T}, at::kLong);
      auto m = make_attention_masking(ids, cached, at::Tensor(), window > 0 ? std::optional<std::int64_t>(window) : std::nullopt);
      REQUIRE(m.blocked.sizes() == at::IntArrayRef({1, 1, T, total}));
      for (std::int64_t i = 0; i < T; ++i)
        for (std::int64_t j = 0; j < total; ++j) {
          const std::int64_t q = cached + i;
          const bool visible = j <= q && (window == 0 || q - j < window);
          CHECK(m.blocked[0][0][i][j].item<bool>() == !visible);
        }
    }
  }
}

TEST_CASE("gemma2's soft caps bound the scores and the logits", "[model][families][gemma]") {
  test::TempDir dir;
  auto ckpt = test::write_tiny_checkpoint(dir, "gemma2", 23, at::kFloat);
  auto model = TransformerLM::load(ckpt.dir);
  REQUIRE(model.spec().attn_softcap == 2.0);
  REQUIRE(model.spec().final_softcap == 3.0);
  auto ids = random_ids(1, 10, ckpt.vocab, 5);
  HookPoints hooks = HookPoints::only({hook_name(0, "attn_scores"), hook_name(1, "attn_scores")});
  const at::Tensor logits = model.forward(ids);
  model.forward(ids, hooks);
  CHECK(logits.abs().max().item<double>() <= 3.0);
  CHECK(logits.abs().max().item<double>() > 2.0);  // the cap is reached for, not idle
  for (int l = 0; l < 2; ++l) {
    const at::Tensor s = hooks.at(hook_name(l, "attn_scores"));  // blocked entries hold the lowest value
    const at::Tensor visible = s.masked_select(s > -1e30);
    CHECK(visible.abs().max().item<double>() <= 2.0);
  }
  // Layer 0 slides (window 4), layer 1 sees every earlier key.
  CHECK(model.spec().slides(0));
  CHECK_FALSE(model.spec().slides(1));
  CHECK(hooks.at(hook_name(0, "attn_scores"))[0][0][9][5].item<double>() < -1e30);
  CHECK(hooks.at(hook_name(1, "attn_scores"))[0][0][9][5].item<double>() > -1e30);
}

TEST_CASE("gpt_neox: the per-head fused qkv splits into the checkpoint's q, k, v; no resid_mid in a parallel block",
          "[model][families][gpt_neox]") {
  test::TempDir dir;
  auto ckpt = test::write_tiny_checkpoint(dir, "gpt_neox", 24, at::kFloat);
  auto model = TransformerLM::load(ckpt.dir);  // its rotary_emb.inv_freq buffers are ignored, not refused
  CHECK(model.spec().parallel_residual);
  CHECK(model.spec().rotary_dim() == 4);  // rotary_pct 0.5 of 8
  auto w = model.attention_weights(1);
  CHECK(at::equal(w.q, ckpt.logical.at("q.1")));
  CHECK(at::equal(w.k, ckpt.logical.at("k.1")));
  CHECK(at::equal(w.v, ckpt.logical.at("v.1")));
  CHECK(at::equal(w.o, ckpt.logical.at("o.1")));
  auto linears = model.linear_layers(0);
  std::vector<std::string> kinds;
  for (const auto& l : linears) kinds.push_back(l.kind);
  CHECK(kinds == std::vector<std::string>{"qkv", "o", "fc", "proj"});
  HookPoints all = HookPoints::all();
  model.forward(random_ids(1, 5, ckpt.vocab, 6), all);
  CHECK(all.cache().count(hook_name(0, "resid_mid")) == 0);
  CHECK(all.cache().count(hook_name(0, "resid_post")) == 1);
  // The hooked q equals the checkpoint's q applied to the first norm's output.
  const at::Tensor x = all.at(hook_name(0, "ln1_normalized"));
  const at::Tensor q = at::matmul(x, ckpt.logical.at("q.0").t()) + ckpt.logical.at("q_bias.0");
  CHECK(max_abs(all.at(hook_name(0, "q")).reshape(q.sizes()), q) < 1e-5);
}

namespace {

ModelSpec spec_of(const test::TempDir& dir, const std::string& name, nlohmann::json cfg) {
  const std::string path = dir / (name + ".json");
  nlohmann::json base{{"vocab_size", 10}, {"hidden_size", 8}, {"intermediate_size", 16}, {"num_hidden_layers", 4},
                      {"num_attention_heads", 2}, {"num_key_value_heads", 1}};
  base.update(cfg);
  write_file_atomic(path, base.dump());
  return ModelSpec::from_config_json(path);
}

std::vector<bool> sliding_of(const ModelSpec& s) {
  std::vector<bool> out;
  for (std::int64_t l = 0; l < s.num_layers; ++l) out.push_back(s.slides(l));
  return out;
}

}  // namespace

TEST_CASE("which layers slide: each family's rule, or config.json's layer_types", "[model][families]") {
  test::TempDir dir;
  using V = std::vector<bool>;
  CHECK(sliding_of(spec_of(dir, "mistral", {{"model_type", "mistral"}, {"sliding_window", 3}})) == V{1, 1, 1, 1});
  // Qwen2/3: only with use_sliding_window, from max_window_layers on.
  CHECK(sliding_of(spec_of(dir, "qwen2-off", {{"model_type", "qwen2"}, {"sliding_window", 3}})) == V{0, 0, 0, 0});
  CHECK(sliding_of(spec_of(dir, "qwen2-on", {{"model_type", "qwen2"}, {"sliding_window", 3}, {"use_sliding_window", true},
                                             {"max_window_layers", 1}})) == V{0, 1, 1, 1});
  CHECK(sliding_of(spec_of(dir, "qwen3-on", {{"model_type", "qwen3"}, {"sliding_window", 3}, {"use_sliding_window", true},
                                             {"max_window_layers", 3}})) == V{0, 0, 0, 1});
  CHECK(sliding_of(spec_of(dir, "gemma2", {{"model_type", "gemma2"}, {"sliding_window", 3}})) == V{1, 0, 1, 0});
  CHECK(sliding_of(spec_of(dir, "gemma3", {{"model_type", "gemma3_text"}, {"sliding_window", 3}, {"sliding_window_pattern", 3}})) ==
        V{1, 1, 0, 1});
  auto listed = spec_of(dir, "listed", {{"model_type", "gemma3_text"}, {"sliding_window", 3},
                                        {"layer_types", {"full_attention", "sliding_attention", "full_attention", "full_attention"}}});
  CHECK(sliding_of(listed) == V{0, 1, 0, 0});
  CHECK_THROWS_WITH(spec_of(dir, "bad-types", {{"model_type", "gemma2"}, {"sliding_window", 3}, {"layer_types", {"full_attention"}}}),
                    Catch::Contains("layer_types must list 4 layers"));
  CHECK_THROWS_WITH(spec_of(dir, "bad-window", {{"model_type", "mistral"}, {"sliding_window", 0}}),
                    Catch::Contains("sliding_window must be positive"));
}

TEST_CASE("gemma keys: soft caps default when absent and switch off when null; query scalar; local RoPE base",
          "[model][families][gemma]") {
  test::TempDir dir;
  auto absent = spec_of(dir, "g2-absent", {{"model_type", "gemma2"}, {"head_dim", 4}});
  CHECK(absent.attn_softcap == 50.0);  // Gemma2Config's defaults
  CHECK(absent.final_softcap == 30.0);
  CHECK(absent.attention_scale() == Approx(0.5));  // head_dim 4, no query_pre_attn_scalar
  CHECK(absent.tie_word_embeddings);
  auto off = spec_of(dir, "g2-null", {{"model_type", "gemma2"}, {"attn_logit_softcapping", nullptr},
                                      {"final_logit_softcapping", nullptr}, {"query_pre_attn_scalar", 16}});
  CHECK_FALSE(off.attn_softcap);
  CHECK_FALSE(off.final_softcap);
  CHECK(off.attention_scale() == Approx(0.25));
  auto g3 = spec_of(dir, "g3", {{"model_type", "gemma3_text"}, {"rope_theta", 1e6}});
  CHECK_FALSE(g3.attn_softcap);
  CHECK(g3.rope_local_theta == 10000.0);  // rope_local_base_freq's default
  auto nested = spec_of(dir, "g3-nested", {{"model_type", "gemma3_text"},
                                           {"rope_parameters", {{"full_attention", {{"rope_type", "linear"}, {"factor", 8.0}, {"rope_theta", 1e6}}},
                                                                {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", 1e4}}}}}});
  CHECK(nested.rope_theta == 1e6);
  CHECK(nested.rope_scaling.type == "linear");
  CHECK(nested.rope_scaling.factor == 8.0);
  CHECK(nested.rope_local_theta == 1e4);
  CHECK_THROWS_WITH(spec_of(dir, "g2-neg", {{"model_type", "gemma2"}, {"attn_logit_softcapping", -1.0}}),
                    Catch::Contains("attn_logit_softcapping must be positive"));
  auto neox = spec_of(dir, "neox", {{"model_type", "gpt_neox"}, {"num_key_value_heads", nullptr}, {"rotary_pct", 0.5},
                                    {"rotary_emb_base", 500.0}, {"use_parallel_residual", false}});
  CHECK(neox.partial_rotary_factor == 0.5);
  CHECK(neox.rope_theta == 500.0);
  CHECK_FALSE(neox.parallel_residual);
  CHECK(neox.attention_bias);  // GPTNeoXConfig's default
}

TEST_CASE("every family's cached-prefix scoring equals scoring each request alone", "[model][families][eval]") {
  test::TempDir dir;
  for (const auto& type : test::tiny_families()) {
    INFO(type);
    auto ckpt = test::write_tiny_checkpoint(dir, type, 25, at::kFloat);
    auto model = TransformerLM::load(ckpt.dir);
    // A 7-token shared prefix (longer than the windows), two questions' contexts after it.
    const std::vector<std::int64_t> prefix{1, 5, 9, 2, 7, 3, 8};
    std::vector<EncodedRequest> a{{{1, 5, 9, 2, 7, 3, 8, 4, 6}, {2}}, {{1, 5, 9, 2, 7, 3, 8, 4, 6}, {3, 11}}};
    std::vector<EncodedRequest> b{{{1, 5, 9, 2, 7, 3, 8, 10}, {2}}, {{1, 5, 9, 2, 7, 3, 8, 10}, {4}}};
    PrefixScorer scorer(model);
    scorer.set_prefix(prefix);
    const auto got = scorer.score_batch({a, b});
    CHECK(scorer.reused_tokens() > 0);
    for (std::size_t q = 0; q < 2; ++q)
      for (std::size_t c = 0; c < 2; ++c) {
        const auto& r = (q == 0 ? a : b)[c];
        CHECK(got[q][c] == Approx(loglikelihood_naive(model, r)).margin(1e-4));
      }
  }
}

TEST_CASE("config.json sizes that would divide by zero or wrap are refused, naming the key", "[model][families][bad-input]") {
  test::TempDir dir;
  for (const auto& [key, value, message] : std::vector<std::tuple<std::string, nlohmann::json, std::string>>{
           {"num_attention_heads", 0, "num_attention_heads must be a positive integer, got 0"},
           {"num_hidden_layers", 0, "num_hidden_layers must be a positive integer, got 0"},
           {"num_hidden_layers", -1, "num_hidden_layers must be a positive integer, got -1"},
           {"hidden_size", -4, "hidden_size must be a positive integer, got -4"},
           {"intermediate_size", 0, "intermediate_size must be a positive integer"},
           {"vocab_size", 0, "vocab_size must be a positive integer"},
           {"head_dim", 0, "head_dim must be a positive integer"},
           {"num_key_value_heads", -2, "num_key_value_heads must be a positive integer"},
           {"rope_theta", -1.0, "rope_theta must be positive, got -1"},
           {"rms_norm_eps", -1.0, "rms_norm_eps must be >= 0"}}) {
    INFO(key << " = " << value.dump());
    CHECK_THROWS_WITH(spec_of(dir, "bad", {{"model_type", "llama"}, {key, value}}), Catch::Contains(message));
  }
  CHECK_THROWS_WITH(spec_of(dir, "bad-gpt2", {{"model_type", "gpt2"}, {"n_embd", 8}, {"n_layer", 1}, {"n_head", 2},
                                              {"n_positions", 0}}),
                    Catch::Contains("n_positions must be a positive integer"));
  CHECK_THROWS_WITH(spec_of(dir, "bad-local", {{"model_type", "gemma3_text"}, {"rope_local_base_freq", -5.0}}),
                    Catch::Contains("rope_local_base_freq must be positive"));
}
