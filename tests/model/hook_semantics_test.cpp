// Hook sites mean what TransformerLens means by them, checked by identities against the tiny
// checkpoints' own weights (recomputed here, in double precision, not by the model's code):
// hook_q/hook_k before RoPE (and before q/k norms, hook_q_normed/hook_k_normed: per head in
// qwen3 and gemma3, whole in olmo2), hook_rot_q/hook_rot_k after (gemma3's local and global
// bases), the pattern from the rotated ones (scaled, soft-capped, windowed per layer), attn_out
// and mlp_out before any post-norm, no resid_mid in gpt_neox's parallel block, the MLP's pre /
// pre_linear / post, and gpt2's position embedding.
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

// What each family's block adds to Llama's, as the tiny checkpoints configure it.
struct Traits {
  explicit Traits(const std::string& type)
      : layer_norm(type == "gpt2" || type == "gpt_neox"),
        gemma(type == "gemma2" || type == "gemma3_text"),
        parallel(type == "gpt_neox"),
        pre_norms(type != "olmo2"),
        post_norms(type == "olmo2" || gemma),
        gemma3(type == "gemma3_text"),
        window_everywhere(type == "mistral") {}
  bool layer_norm, gemma, parallel, pre_norms, post_norms, gemma3, window_everywhere;
  bool slides(int layer) const { return window_everywhere || (gemma && layer == 0); }
};

// The norm `which` ("attn_norm", with `n` = ".0"; "final_norm", n = "") of x; Gemma's RMSNorm
// scales by (1 + w).
at::Tensor norm(const test::TinyCheckpoint& c, const at::Tensor& x, const std::string& which, const std::string& n,
                bool layer_norm, bool one_plus = false) {
  auto xd = f64(x), w = f64(c.logical.at(which + n));
  if (!layer_norm) return (one_plus ? w + 1 : w) * xd / at::sqrt(xd.pow(2).mean(-1, true) + 1e-5);
  auto centred = xd - xd.mean(-1, true);
  return w * centred / at::sqrt(centred.pow(2).mean(-1, true) + 1e-5) + f64(c.logical.at(which + "_bias" + n));
}

// rotate_half RoPE of x [B, T, heads, hd] at positions 0..T-1 on the first rotary dims, base
// `theta`, frequencies divided by `divide` (linear scaling).
at::Tensor rope(const test::TinyCheckpoint& c, const at::Tensor& x, double theta, double divide) {
  const std::int64_t T = x.size(1), rd = std::int64_t(double(c.head_dim) * c.partial_rotary), half = rd / 2;
  auto i = at::arange(half, at::kDouble), t = at::arange(T, at::kDouble);
  auto angle = (t.unsqueeze(1) * at::pow(theta, -2.0 * i / double(rd)) / divide).view({1, T, 1, half});
  auto xd = f64(x), x1 = xd.narrow(-1, 0, half), x2 = xd.narrow(-1, half, half);
  return at::cat({x1 * angle.cos() - x2 * angle.sin(), x2 * angle.cos() + x1 * angle.sin(),
                  xd.narrow(-1, rd, xd.size(-1) - rd)}, -1);
}

// softmax(q k^T * scale, soft-capped) over the keys a query may see; q [B, T, H, hd], k [B, T, KV, hd].
at::Tensor pattern(const test::TinyCheckpoint& c, const at::Tensor& q, const at::Tensor& k, bool sliding) {
  const std::int64_t T = q.size(1);
  auto qh = f64(q).transpose(1, 2), kh = f64(k).transpose(1, 2).repeat_interleave(c.heads / c.kv_heads, 1);
  const double scalar = c.query_pre_attn_scalar > 0 ? c.query_pre_attn_scalar : double(c.head_dim);
  auto scores = at::matmul(qh, kh.transpose(2, 3)) / std::sqrt(scalar);  // [B, H, T, T]
  if (c.attn_softcap > 0) scores = at::tanh(scores / c.attn_softcap) * c.attn_softcap;
  auto query = at::arange(T).view({T, 1}), key = at::arange(T).view({1, T});
  auto blocked = key.gt(query);
  if (sliding) blocked = blocked | (query - key).ge(c.sliding_window);
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
    const Traits f(type);
    auto model = TransformerLM::load(c.dir);
    at::manual_seed(2);
    auto ids = at::randint(0, c.vocab, {2, 9}, at::kLong);
    HookPoints hooks = HookPoints::all();
    auto logits = model.forward(ids, hooks);
    auto at_ = [&](int l, const char* site) { return hooks.at(hook_name(l, site)); };
    auto has = [&](int l, const char* site) { return hooks.cache().count(hook_name(l, site)) == 1; };
    const std::int64_t B = 2, T = 9, H = c.heads, KV = c.kv_heads, hd = c.head_dim;
    auto block_norm = [&](const at::Tensor& x, const std::string& which, const std::string& n) {
      return norm(c, x, which, n, f.layer_norm, f.gemma);
    };

    // Embeddings: the token embedding (Gemma: times sqrt(d_model)), plus gpt2's learned positions,
    // is block 0's input.
    const double embed_scale = f.gemma ? std::sqrt(double(c.d_model)) : 1.0;
    CHECK(close(hooks.at("hook_embed"),
                f64(c.logical.at("token_embed").index_select(0, ids.reshape(-1)).view({B, T, -1})) * embed_scale));
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
      auto x = at_(l, "ln1_normalized");  // attention's input: the stream itself in a post-norm block
      CHECK(close(x, f.pre_norms ? block_norm(at_(l, "resid_pre"), "attn_norm", n) : f64(at_(l, "resid_pre"))));
      // q, k, v: the projections of the normalised input, k and v per key/value head.
      auto q = at_(l, "q"), k = at_(l, "k"), v = at_(l, "v");
      CHECK(k.sizes() == at::IntArrayRef({B, T, KV, hd}));
      CHECK(close(q, affine(c, x, "q", l).view({B, T, H, hd})));
      CHECK(close(k, affine(c, x, "k", l).view({B, T, KV, hd})));
      CHECK(close(v, affine(c, x, "v", l).view({B, T, KV, hd})));
      at::Tensor qs = q, ks = k;  // what the scores are made of
      if (gpt2) {
        CHECK_FALSE(has(l, "rot_q"));
        CHECK_FALSE(has(l, "rot_k"));
      } else {
        at::Tensor qr = q, kr = k;  // what RoPE rotates: the heads after their norm where there is one
        if (c.logical.count("q_norm" + n)) {
          if (c.logical.at("q_norm" + n).numel() == hd) {  // per head
            qr = norm(c, q, "q_norm", n, false, f.gemma), kr = norm(c, k, "k_norm", n, false, f.gemma);
          } else {  // over the whole projection (OLMo 2)
            qr = norm(c, q.reshape({B, T, H * hd}), "q_norm", n, false).view({B, T, H, hd});
            kr = norm(c, k.reshape({B, T, KV * hd}), "k_norm", n, false).view({B, T, KV, hd});
          }
          CHECK(close(at_(l, "q_normed"), qr));
          CHECK(close(at_(l, "k_normed"), kr));
        } else {
          CHECK_FALSE(has(l, "q_normed"));
        }
        // Gemma 3: the sliding layer rotates with its local base, the global one scaled.
        const bool local = f.gemma3 && f.slides(l);
        const double theta = local ? c.rope_local_theta : c.rope_theta, divide = f.gemma3 && !local ? c.rope_linear_factor : 1.0;
        qs = at_(l, "rot_q"), ks = at_(l, "rot_k");
        CHECK(ks.sizes() == at::IntArrayRef({B, T, KV, hd}));
        CHECK(close(qs, rope(c, qr, theta, divide)));
        CHECK(close(ks, rope(c, kr, theta, divide)));
      }
      auto p = pattern(c, qs, ks, f.slides(l));
      CHECK(close(at_(l, "pattern"), p));
      auto z = at::matmul(p, f64(v).transpose(1, 2).repeat_interleave(H / KV, 1)).transpose(1, 2);  // [B, T, H, hd]
      CHECK(close(at_(l, "z"), z));
      auto attn_out = affine(c, at_(l, "z").reshape({B, T, H * hd}), "o", l);
      CHECK(close(at_(l, "attn_out"), attn_out));
      auto o_bias = c.logical.count("o_bias" + n) ? f64(c.logical.at("o_bias" + n)) : at::zeros({1}, at::kDouble);
      CHECK(close(f64(at_(l, "result")).sum(2) + o_bias, attn_out));
      // What enters the stream: attn_out, after its norm in post-norm and sandwich blocks.
      const at::Tensor attn_added = f.post_norms ? block_norm(at_(l, "attn_out"), "post_attn_norm", n) : f64(at_(l, "attn_out"));
      at::Tensor mlp_stream;  // what the MLP's norm reads
      if (f.parallel) {  // no stream between attention and MLP
        CHECK_FALSE(has(l, "resid_mid"));
        mlp_stream = at_(l, "resid_pre");
      } else {
        CHECK(close(at_(l, "resid_mid"), f64(at_(l, "resid_pre")) + attn_added));
        mlp_stream = at_(l, "resid_mid");
      }

      // MLP: pre is the gate (gpt2 / gpt_neox: the first projection) output before the
      // activation, pre_linear the up projection.
      auto x2 = at_(l, "normalized");
      CHECK(close(x2, f.pre_norms ? block_norm(mlp_stream, "mlp_norm", n) : f64(mlp_stream)));
      auto pre = at_(l, "pre"), post = at_(l, "post");
      if (f.layer_norm) {
        CHECK(close(pre, affine(c, x2, "fc", l)));
        CHECK_FALSE(has(l, "pre_linear"));
        CHECK(close(post, gpt2 ? gelu_new(pre) : at::gelu(f64(pre))));  // gpt_neox: the exact GELU
        CHECK(close(at_(l, "mlp_out"), affine(c, post, "proj", l)));
      } else {
        CHECK(close(pre, affine(c, x2, "gate", l)));
        CHECK(close(at_(l, "pre_linear"), affine(c, x2, "up", l)));
        const at::Tensor act = f.gemma ? at::gelu(f64(pre), "tanh") : at::silu(f64(pre));
        CHECK(close(post, act * f64(at_(l, "pre_linear"))));
        CHECK(close(at_(l, "mlp_out"), affine(c, post, "down", l)));
      }
      const at::Tensor mlp_added = f.post_norms ? block_norm(at_(l, "mlp_out"), "post_mlp_norm", n) : f64(at_(l, "mlp_out"));
      const at::Tensor before_mlp = f.parallel ? f64(at_(l, "resid_pre")) + attn_added : f64(at_(l, "resid_mid"));
      CHECK(close(at_(l, "resid_post"), before_mlp + mlp_added));
    }
    auto final = hooks.at("ln_final.hook_normalized");
    CHECK(close(final, block_norm(at_(int(c.layers) - 1, "resid_post"), "final_norm", "")));
    at::Tensor want = at::matmul(f64(final), f64(c.logical.at(gpt2 || f.gemma ? "token_embed" : "lm_head")).t());
    if (c.final_softcap > 0) want = at::tanh(want / c.final_softcap) * c.final_softcap;
    CHECK(close(logits, want));
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
