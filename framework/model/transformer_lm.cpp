// TransformerLM's computation: embedding, the one block every family runs, the final norm and
// the unembedding, with each hook site recorded where TransformerLens records it.
#include "framework/model/transformer_lm.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include "framework/model/rope.h"
#include "framework/util/error.h"

namespace sinklab {
namespace {

// transformers' RMSNorm: normalise in float32, scale in the input dtype.
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& w, double eps) {
  auto xf = x.to(at::kFloat);
  auto normed = xf * at::rsqrt(xf.pow(2).mean(-1, true) + eps);
  return w * normed.to(x.scalar_type());
}

// x [..., D]: the family's norm (LayerNorm in the input dtype, as nn.LayerNorm).
at::Tensor normalize(const at::Tensor& x, NormKind kind, const at::Tensor& w, const at::Tensor& b, double eps) {
  return kind == NormKind::layer ? at::layer_norm(x, {x.size(-1)}, w, b, eps) : rms_norm(x, w, eps);
}

// x [..., in] -> [..., out] with w [out, in]; addmm with a bias, as nn.Linear and Conv1D compute it.
at::Tensor linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  if (!b.defined()) return at::matmul(x, w.t());
  auto sizes = x.sizes().vec();
  sizes.back() = w.size(0);
  return at::addmm(b, x.reshape({-1, x.size(-1)}), w.t()).view(sizes);
}

// The MLP activations config.json may name (each family accepts a subset, ConfigKeys::activations).
at::Tensor activate(const std::string& name, const at::Tensor& x) {
  if (name == "silu") return at::silu(x);
  if (name == "gelu_new") return at::gelu(x, "tanh");
  SINKLAB_CHECK(false, "no activation '{}'", name);
  return x;
}

// x [B, heads, T, hd]: rotates the first rotary_dim dims (rotate_half convention), the rest pass.
at::Tensor apply_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin, std::int64_t rotary_dim) {
  auto rot = x.narrow(-1, 0, rotary_dim), pass = x.narrow(-1, rotary_dim, x.size(-1) - rotary_dim);
  auto half = rotary_dim / 2;
  auto rotated = at::cat({-rot.narrow(-1, half, half), rot.narrow(-1, 0, half)}, -1);
  return at::cat({rot * cos + rotated * sin, pass}, -1);
}

}  // namespace

TransformerLM::Rope TransformerLM::rope(const at::Tensor& positions) const {
  if (!spec_.rotary) return {};
  // Tables [B, 1, T, rotary_dim] computed in float32, then cast, as transformers does.
  const std::int64_t rd = spec_.rotary_dim();
  // Only dynamic scaling depends on the length, which costs a device sync to read.
  const std::int64_t seq_len = spec_.rope_scaling.type == "dynamic" ? positions.max().item<std::int64_t>() + 1 : 0;
  auto inv_freq = rope_inverse_frequencies(spec_.rope_theta, rd, spec_.rope_scaling, seq_len,
                                           token_embed_.options().dtype(at::kFloat));
  auto freqs = positions.to(at::kFloat).unsqueeze(-1) * inv_freq;  // [B, T, rd/2]
  auto emb = at::cat({freqs, freqs}, -1).unsqueeze(1);
  return {emb.cos().to(token_embed_.scalar_type()), emb.sin().to(token_embed_.scalar_type())};
}

at::Tensor TransformerLM::embed_at(const at::Tensor& ids, const at::Tensor& positions, HookPoints& hooks) const {
  const std::int64_t B = ids.size(0), T = ids.size(1), D = spec_.hidden_size;
  at::Tensor h = token_embed_.index_select(0, ids.reshape({-1})).view({B, T, D});
  hooks.record("hook_embed", h);
  if (!pos_embed_.defined()) return h;
  at::Tensor pos = pos_embed_.index_select(0, positions.reshape({-1})).view({B, T, D});
  hooks.record("hook_pos_embed", pos);
  return h + pos;
}

at::Tensor TransformerLM::embed(const at::Tensor& ids_in) const {
  auto ids = ids_in.to(token_embed_.device());
  SINKLAB_INPUT_CHECK(spec_.rotary || ids.size(1) <= spec_.max_positions, "{} takes at most {} positions, got {}",
                      spec_.model_type, spec_.max_positions, ids.size(1));
  auto positions = at::arange(ids.size(1), ids.options()).unsqueeze(0).expand({ids.size(0), ids.size(1)});
  HookPoints none = HookPoints::none();
  return embed_at(ids, positions, none);
}

at::Tensor TransformerLM::run_block(std::int64_t layer, const at::Tensor& h, HookPoints& hooks) const {
  at::NoGradGuard no_grad;
  check_layer(layer);
  auto shape_ids = at::zeros({h.size(0), h.size(1)}, h.options().dtype(at::kLong));
  AttentionMasking masking = make_attention_masking(shape_ids, 0, at::Tensor(), spec_.sliding_window);
  return block(layer, h, masking, rope(masking.positions), hooks, nullptr);
}

at::Tensor TransformerLM::block(std::int64_t l, at::Tensor h, const AttentionMasking& masking, const Rope& rope,
                                HookPoints& hooks, KvCache* cache) const {
  const ModelSpec& s = spec_;
  const std::int64_t B = h.size(0), T = h.size(1), D = s.hidden_size, H = s.num_heads, KV = s.num_kv_heads,
                     hd = s.head_dim;
  Block scratch;  // holds a non-resident block's converted weights while it runs
  const Block& b = weights(l, scratch);
  auto norm = [&](const at::Tensor& x, const Norm& n) { return normalize(x, family().norm, n.weight, n.bias, s.norm_eps); };
  auto site = [&](const char* name) { return hook_name(int(l), name); };

  hooks.record(site("resid_pre"), h);
  auto x = norm(h, b.attn_norm);  // [B, T, D]
  hooks.record(site("ln1_normalized"), x);
  auto q = linear(x, b.q.weight, b.q.bias);  // [B, T, H*hd]
  auto k = linear(x, b.k.weight, b.k.bias);  // [B, T, KV*hd]
  auto v = linear(x, b.v.weight, b.v.bias).view({B, T, KV, hd});
  hooks.record(site("q"), q.view({B, T, H, hd}));  // before RoPE, per key/value head for k and v (TransformerLens)
  hooks.record(site("k"), k.view({B, T, KV, hd}));
  hooks.record(site("v"), v);
  if (family().qk_norm == QkNorm::per_head) {  // RMSNorm over each head's hd dims
    q = rms_norm(q.view({B, T, H, hd}), b.q_norm.weight, s.norm_eps);
    k = rms_norm(k.view({B, T, KV, hd}), b.k_norm.weight, s.norm_eps);
    hooks.record(site("q_normed"), q.view({B, T, H, hd}));
    hooks.record(site("k_normed"), k.view({B, T, KV, hd}));
  }
  q = q.view({B, T, H, hd}), k = k.view({B, T, KV, hd});
  q = q.transpose(1, 2), k = k.transpose(1, 2), v = v.transpose(1, 2);  // [B, heads, T, hd]
  if (rope.cos.defined()) {
    q = apply_rope(q, rope.cos, rope.sin, s.rotary_dim());
    k = apply_rope(k, rope.cos, rope.sin, s.rotary_dim());
    hooks.record(site("rot_q"), q.transpose(1, 2));
    hooks.record(site("rot_k"), k.transpose(1, 2));
  }
  if (cache) std::tie(k, v) = cache->append(std::size_t(l), std::size_t(s.num_layers), k, v);  // keys rotated
  if (KV != H) {  // grouped-query attention: each K/V head serves H/KV query heads
    k = k.repeat_interleave(H / KV, 1);
    v = v.repeat_interleave(H / KV, 1);
  }
  auto z = attend(q, k, v, masking.blocked, hooks, int(l));  // [B, H, T, hd]
  if (hooks.wants(site("result")))  // each head through its slice of W_O: [B, T, H, D]
    hooks.record(site("result"), at::einsum("bhtd,mhd->bthm", {z, b.o.weight.view({D, H, hd})}));
  auto attn_out = linear(z.transpose(1, 2).reshape({B, T, H * hd}), b.o.weight, b.o.bias);
  hooks.record(site("attn_out"), attn_out);
  h = h + attn_out;
  hooks.record(site("resid_mid"), h);

  auto x2 = norm(h, b.mlp_norm);
  hooks.record(site("normalized"), x2);
  auto pre = linear(x2, b.mlp_in.weight, b.mlp_in.bias);  // [B, T, I]
  hooks.record(site("pre"), pre);
  at::Tensor post = activate(s.hidden_act, pre);
  if (family().mlp == MlpKind::gated) {
    auto pre_linear = linear(x2, b.mlp_up.weight, b.mlp_up.bias);
    hooks.record(site("pre_linear"), pre_linear);
    post = post * pre_linear;
  }
  hooks.record(site("post"), post);
  auto mlp = linear(post, b.mlp_out.weight, b.mlp_out.bias);
  hooks.record(site("mlp_out"), mlp);
  h = h + mlp;
  hooks.record(site("resid_post"), h);
  return h;
}

at::Tensor TransformerLM::forward(const at::Tensor& input_ids, HookPoints& hooks, KvCache* cache,
                                  const at::Tensor& attention_mask_in) const {
  at::NoGradGuard no_grad;
  const ModelSpec& s = spec_;
  // Everything is computed where the weights are (CPU, or CUDA after to()).
  const auto [ids, attention_mask] = prepare_inputs(input_ids, attention_mask_in, token_embed_.device(), s.vocab_size);
  const std::int64_t past = cache ? cache->length() : 0;
  SINKLAB_INPUT_CHECK(s.rotary || past + ids.size(1) <= s.max_positions, "{} takes at most {} positions, got {}",
                      s.model_type, s.max_positions, past + ids.size(1));
  AttentionMasking masking = make_attention_masking(ids, past, attention_mask, s.sliding_window);
  const Rope r = rope(masking.positions);
  at::Tensor h = embed_at(ids, masking.positions, hooks);  // [B, T, D]
  for (std::int64_t l = 0; l < s.num_layers; ++l) h = block(l, h, masking, r, hooks, cache);
  auto final = normalize(h, family().norm, final_norm_.weight, final_norm_.bias, s.norm_eps);
  hooks.record("ln_final.hook_normalized", final);
  return at::matmul(final, lm_head_.t()).to(at::kFloat);
}

}  // namespace sinklab
