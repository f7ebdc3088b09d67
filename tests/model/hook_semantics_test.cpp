// Hook sites mean what TransformerLens means by them, checked by identities against the tiny
// checkpoints' own weights (recomputed here, in double precision, not by the model's code):
// hook_q/hook_k before RoPE (and before qwen3's per-head RMSNorm, hook_q_normed/hook_k_normed),
// hook_rot_q/hook_rot_k after, the pattern from the rotated ones,
// the MLP's pre / pre_linear / post, and gpt2's position embedding.
#include <ATen/ATen.h>

#include "tests/support/catch.h"
#include <cmath>

#include "framework/model/transformer_lm.h"
#include "tests/model/tiny_checkpoint.h"
#include "tests/support/temp_dir.h"

using namespace sinklab;

namespace {

at::Tensor f64(const at::Tensor& t) { return t.to(at::kDouble); }

bool close(const at::Tensor& got, const at::Tensor& want) {
  const double diff = (f64(got) - f64(want)).abs().max().item<double>();
  INFO("max |difference| " << diff);
  return diff <= 2e-5 * std::max(1.0, f64(want).abs().max().item<double>());
}

// x [..., in] @ w[out, in]^T + b, with the weight and bias from the checkpoint's unfused values.
at::Tensor affine(const test::TinyCheckpoint& c, const at::Tensor& x, const std::string& map, int layer) {
  const std::string n = "." + std::to_string(layer);
  at::Tensor y = at::matmul(f64(x), f64(c.logical.at(map + n)).t());
  auto b = c.logical.find(map + "_bias" + n);
  return b == c.logical.end() ? y : y + f64(b->second);
}

// The norm `which` ("attn_norm", with `n` = ".0"; "final_norm", n = "") of x.
at::Tensor norm(const test::TinyCheckpoint& c, const at::Tensor& x, const std::string& which, const std::string& n,
                bool layer_norm) {
  auto xd = f64(x), w = f64(c.logical.at(which + n));
  if (!layer_norm) return w * xd / at::sqrt(xd.pow(2).mean(-1, true) + 1e-5);
  auto centred = xd - xd.mean(-1, true);
  return w * centred / at::sqrt(centred.pow(2).mean(-1, true) + 1e-5) + f64(c.logical.at(which + "_bias" + n));
}

// rotate_half RoPE of x [B, T, heads, hd] at positions 0..T-1 on the first rotary dims.
at::Tensor rope(const test::TinyCheckpoint& c, const at::Tensor& x) {
  const std::int64_t T = x.size(1), rd = std::int64_t(double(c.head_dim) * c.partial_rotary), half = rd / 2;
  auto i = at::arange(half, at::kDouble), t = at::arange(T, at::kDouble);
  auto angle = (t.unsqueeze(1) * at::pow(c.rope_theta, -2.0 * i / double(rd))).view({1, T, 1, half});
  auto xd = f64(x), x1 = xd.narrow(-1, 0, half), x2 = xd.narrow(-1, half, half);
  return at::cat({x1 * angle.cos() - x2 * angle.sin(), x2 * angle.cos() + x1 * angle.sin(),
                  xd.narrow(-1, rd, xd.size(-1) - rd)}, -1);
}

// softmax(q k^T / sqrt(hd)) over the keys a query may see; q [B, T, H, hd], k [B, T, KV, hd].
at::Tensor pattern(const test::TinyCheckpoint& c, const at::Tensor& q, const at::Tensor& k) {
  const std::int64_t T = q.size(1);
  auto qh = f64(q).transpose(1, 2), kh = f64(k).transpose(1, 2).repeat_interleave(c.heads / c.kv_heads, 1);
  auto scores = at::matmul(qh, kh.transpose(2, 3)) / std::sqrt(double(c.head_dim));  // [B, H, T, T]
  auto query = at::arange(T).view({T, 1}), key = at::arange(T).view({1, T});
  auto blocked = key.gt(query);
  if (c.sliding_window > 0) blocked = blocked | (query - key).ge(c.sliding_window);
  return at::softmax(scores.masked_fill(blocked, -INFINITY), -1);
}

at::Tensor gelu_new(const at::Tensor& x) {
  auto xd = f64(x);
  return 0.5 * xd * (1 + at::tanh(std::sqrt(2.0 / M_PI) * (xd + 0.044715 * xd.pow(3))));
}

}  // namespace

TEST_CASE("hook sites follow TransformerLens in every family", "[model][families][hooks]") {
  test::TempDir dir;
  for (const auto& type : test::tiny_families()) {
    INFO(type);
    const auto c = test::write_tiny_checkpoint(dir, type, 21, at::kFloat);
    const bool gpt2 = type == "gpt2";
    auto model = TransformerLM::load(c.dir);
    at::manual_seed(2);
    auto ids = at::randint(0, c.vocab, {2, 9}, at::kLong);
    HookPoints hooks = HookPoints::all();
    auto logits = model.forward(ids, hooks);
    auto at_ = [&](int l, const char* site) { return hooks.at(hook_name(l, site)); };
    const std::int64_t B = 2, T = 9, H = c.heads, KV = c.kv_heads, hd = c.head_dim;

    // Embeddings: the token embedding, plus gpt2's learned positions, is block 0's input.
    CHECK(close(hooks.at("hook_embed"), c.logical.at("token_embed").index_select(0, ids.reshape(-1)).view({B, T, -1})));
    if (gpt2) {
      CHECK(close(hooks.at("hook_pos_embed"), c.logical.at("pos_embed").narrow(0, 0, T).expand({B, T, c.d_model})));
      CHECK(close(hooks.at("hook_embed") + hooks.at("hook_pos_embed"), at_(0, "resid_pre")));
    } else {
      CHECK(hooks.cache().count("hook_pos_embed") == 0);
      CHECK(close(hooks.at("hook_embed"), at_(0, "resid_pre")));
    }

    for (int l = 0; l < int(c.layers); ++l) {
      INFO("layer " << l);
      const std::string n = "." + std::to_string(l);
      auto x = at_(l, "ln1_normalized");
      CHECK(close(x, norm(c, at_(l, "resid_pre"), "attn_norm", n, gpt2)));
      // q, k, v: the projections of the normalised input, k and v per key/value head.
      auto q = at_(l, "q"), k = at_(l, "k"), v = at_(l, "v");
      CHECK(k.sizes() == at::IntArrayRef({B, T, KV, hd}));
      CHECK(close(q, affine(c, x, "q", l).view({B, T, H, hd})));
      CHECK(close(k, affine(c, x, "k", l).view({B, T, KV, hd})));
      CHECK(close(v, affine(c, x, "v", l).view({B, T, KV, hd})));
      at::Tensor qs = q, ks = k;  // what the scores are made of
      if (gpt2) {
        CHECK(hooks.cache().count(hook_name(l, "rot_q")) == 0);
        CHECK(hooks.cache().count(hook_name(l, "rot_k")) == 0);
      } else {
        at::Tensor qr = q, kr = k;  // what RoPE rotates: the heads after their RMSNorm where there is one
        if (c.logical.count("q_norm" + n)) {
          qr = norm(c, q, "q_norm", n, false), kr = norm(c, k, "k_norm", n, false);
          CHECK(close(at_(l, "q_normed"), qr));
          CHECK(close(at_(l, "k_normed"), kr));
        } else {
          CHECK(hooks.cache().count(hook_name(l, "q_normed")) == 0);
        }
        qs = at_(l, "rot_q"), ks = at_(l, "rot_k");
        CHECK(ks.sizes() == at::IntArrayRef({B, T, KV, hd}));
        CHECK(close(qs, rope(c, qr)));
        CHECK(close(ks, rope(c, kr)));
      }
      auto p = pattern(c, qs, ks);
      CHECK(close(at_(l, "pattern"), p));
      auto z = at::matmul(p, f64(v).transpose(1, 2).repeat_interleave(H / KV, 1)).transpose(1, 2);  // [B, T, H, hd]
      CHECK(close(at_(l, "z"), z));
      auto attn_out = affine(c, at_(l, "z").reshape({B, T, H * hd}), "o", l);
      CHECK(close(at_(l, "attn_out"), attn_out));
      auto o_bias = c.logical.count("o_bias" + n) ? f64(c.logical.at("o_bias" + n)) : at::zeros({1}, at::kDouble);
      CHECK(close(f64(at_(l, "result")).sum(2) + o_bias, attn_out));
      CHECK(close(at_(l, "resid_mid"), f64(at_(l, "resid_pre")) + f64(at_(l, "attn_out"))));

      // MLP: pre is the gate (gpt2: c_fc) output before the activation, pre_linear the up projection.
      auto x2 = at_(l, "normalized");
      CHECK(close(x2, norm(c, at_(l, "resid_mid"), "mlp_norm", n, gpt2)));
      auto pre = at_(l, "pre"), post = at_(l, "post");
      if (gpt2) {
        CHECK(close(pre, affine(c, x2, "fc", l)));
        CHECK(hooks.cache().count(hook_name(l, "pre_linear")) == 0);
        CHECK(close(post, gelu_new(pre)));
        CHECK(close(at_(l, "mlp_out"), affine(c, post, "proj", l)));
      } else {
        CHECK(close(pre, affine(c, x2, "gate", l)));
        CHECK(close(at_(l, "pre_linear"), affine(c, x2, "up", l)));
        CHECK(close(post, at::silu(f64(pre)) * f64(at_(l, "pre_linear"))));
        CHECK(close(at_(l, "mlp_out"), affine(c, post, "down", l)));
      }
      CHECK(close(at_(l, "resid_post"), f64(at_(l, "resid_mid")) + f64(at_(l, "mlp_out"))));
    }
    auto final = hooks.at("ln_final.hook_normalized");
    CHECK(close(final, norm(c, at_(int(c.layers) - 1, "resid_post"), "final_norm", "", gpt2)));
    CHECK(close(logits, at::matmul(f64(final), f64(c.logical.at(gpt2 ? "token_embed" : "lm_head")).t())));
  }
}

TEST_CASE("a forward pass records only the sites asked for", "[model][hooks]") {
  test::TempDir dir;
  auto model = TransformerLM::load(test::write_tiny_checkpoint(dir, "llama", 8, at::kFloat).dir);
  HookPoints hooks = HookPoints::only({hook_name(1, "rot_k"), hook_name(0, "pre_linear")});
  hooks.select_heads(hook_name(1, "rot_k"), {1});  // a key/value head: llama's tiny model has 2
  model.forward(at::tensor(std::vector<std::int64_t>{3, 1, 4, 1, 5}, at::kLong).unsqueeze(0), hooks);
  CHECK(hooks.cache().size() == 2);
  CHECK(hooks.at(hook_name(1, "rot_k")).sizes() == at::IntArrayRef({1, 5, 1, 8}));
  hooks.select_heads(hook_name(1, "rot_k"), {2});
  CHECK_THROWS_WITH(model.forward(at::tensor(std::vector<std::int64_t>{3, 1}, at::kLong).unsqueeze(0), hooks), Catch::Contains("asks for head 2"));
}
