// TransformerLM's computation: embedding, the one block every family runs, the final norm and
// the unembedding, with each hook site recorded where TransformerLens records it.
#include "framework/model/transformer_lm.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>

#include "framework/model/rope.h"
#include "framework/util/error.h"

namespace sinklab {
namespace {

// x [..., D]: the family's norm. RMSNorm normalises in float32; Llama's then scales in the input
// dtype, OLMo 2's in float32, Gemma's by (1 + w) in float32. LayerNorm in the input dtype, as
// nn.LayerNorm.
at::Tensor normalize(const at::Tensor& x, NormKind kind, const at::Tensor& w, const at::Tensor& b, double eps) {
  if (kind == NormKind::layer) return at::layer_norm(x, {x.size(-1)}, w, b, eps);
  auto xf = x.to(at::kFloat);
  auto normed = xf * at::rsqrt(xf.pow(2).mean(-1, true) + eps);
  switch (kind) {
    case NormKind::rms: return w * normed.to(x.scalar_type());
    case NormKind::rms_float32_weight: return (w * normed).to(x.scalar_type());
    case NormKind::rms_one_plus: return (normed * (w.to(at::kFloat) + 1.0)).to(x.scalar_type());
    case NormKind::layer: break;
  }
  return normed;
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
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return at::gelu(x, "tanh");
  if (name == "gelu") return at::gelu(x);  // the exact (erf) GELU
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

TransformerLM::Rope TransformerLM::rope(const at::Tensor& positions, bool local) const {
  if (!spec_.rotary) return {};
  // Tables [B, 1, T, rotary_dim] computed in float32, then cast, as transformers does.
  const std::int64_t rd = spec_.rotary_dim();
  // A sliding layer of Gemma 3 rotates with its own base and no scaling.
  const RopeScaling unscaled;
  const RopeScaling& scaling = local ? unscaled : spec_.rope_scaling;
  // Only dynamic scaling and longrope depend on the length, which costs a device sync to read.
  const bool by_length = scaling.type == "dynamic" || scaling.type == "longrope";
  const std::int64_t seq_len = by_length ? positions.max().item<std::int64_t>() + 1 : 0;
  auto inv_freq = rope_inverse_frequencies(local ? spec_.rope_local_theta : spec_.rope_theta, rd, scaling, seq_len,
                                           token_embed_.options().dtype(at::kFloat));
  auto freqs = positions.to(at::kFloat).unsqueeze(-1) * inv_freq;  // [B, T, rd/2]
  auto emb = at::cat({freqs, freqs}, -1).unsqueeze(1);
  const double factor = scaling.attention_factor;  // longrope's; 1 otherwise
  auto cos = emb.cos(), sin = emb.sin();
  if (factor != 1.0) cos = cos * factor, sin = sin * factor;
  return {cos.to(token_embed_.scalar_type()), sin.to(token_embed_.scalar_type())};
}

TransformerLM::LayerContext TransformerLM::layer_context(const at::Tensor& ids, std::int64_t cached,
                                                          const at::Tensor& attention_mask) const {
  LayerContext c;
  bool any_full = false, any_sliding = false;
  for (std::int64_t l = 0; l < spec_.num_layers; ++l) (spec_.slides(l) ? any_sliding : any_full) = true;
  if (any_full || !any_sliding) c.full = make_attention_masking(ids, cached, attention_mask, std::nullopt);
  if (any_sliding) c.sliding = make_attention_masking(ids, cached, attention_mask, spec_.sliding_window);
  const at::Tensor& positions = any_full || !any_sliding ? c.full.positions : c.sliding.positions;
  c.global = rope(positions, false);
  if (spec_.rope_local_theta > 0 && any_sliding) c.local = rope(positions, true);
  return c;
}

at::Tensor TransformerLM::embed_at(const at::Tensor& ids, const at::Tensor& positions, HookPoints& hooks) const {
  const std::int64_t B = ids.size(0), T = ids.size(1), D = spec_.hidden_size;
  at::Tensor h = token_embed_.index_select(0, ids.reshape({-1})).view({B, T, D});
  // Gemma: times sqrt(d_model) rounded to the compute dtype first, as transformers multiplies.
  if (family().scaled_embedding) h = h * at::scalar_tensor(std::sqrt(double(D)), h.options());
  h = hooks.pass("hook_embed", h);
  if (!pos_embed_.defined()) return h;
  at::Tensor pos = pos_embed_.index_select(0, positions.reshape({-1})).view({B, T, D});
  pos = hooks.pass("hook_pos_embed", pos);
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
  const LayerContext c = layer_context(shape_ids, 0, at::Tensor());
  return block(layer, h, c.masking(spec_, layer), c.rope(spec_, layer), hooks, nullptr);
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

  h = hooks.pass(site("resid_pre"), h);
  const at::Tensor block_input = h;
  auto x = b.attn_norm.weight.defined() ? norm(h, b.attn_norm) : h;  // [B, T, D]; post-norm blocks: the stream
  x = hooks.pass(site("ln1_normalized"), x);
  at::Tensor q, k, v;  // [B, T, H, hd], [B, T, KV, hd], [B, T, KV, hd]
  if (b.qkv.weight.defined()) {  // GPT-NeoX: one map, each head's rows q, k, v in turn
    auto qkv = linear(x, b.qkv.weight, b.qkv.bias).view({B, T, H, 3 * hd});
    q = qkv.narrow(-1, 0, hd), k = qkv.narrow(-1, hd, hd), v = qkv.narrow(-1, 2 * hd, hd);
  } else {
    q = linear(x, b.q.weight, b.q.bias).view({B, T, H, hd});
    k = linear(x, b.k.weight, b.k.bias).view({B, T, KV, hd});
    v = linear(x, b.v.weight, b.v.bias).view({B, T, KV, hd});
  }
  q = hooks.pass(site("q"), q);  // before RoPE, per key/value head for k and v (TransformerLens)
  k = hooks.pass(site("k"), k);
  v = hooks.pass(site("v"), v);
  if (family().qk_norm == QkNorm::per_head) {  // over each head's hd dims
    q = norm(q, b.q_norm);
    k = norm(k, b.k_norm);
  } else if (family().qk_norm == QkNorm::whole) {  // over the whole projection (OLMo 2)
    q = norm(q.reshape({B, T, H * hd}), b.q_norm).view({B, T, H, hd});
    k = norm(k.reshape({B, T, KV * hd}), b.k_norm).view({B, T, KV, hd});
  }
  if (family().qk_norm != QkNorm::none) {
    q = hooks.pass(site("q_normed"), q);
    k = hooks.pass(site("k_normed"), k);
  }
  q = q.transpose(1, 2), k = k.transpose(1, 2), v = v.transpose(1, 2);  // [B, heads, T, hd]
  if (cache && cache->streaming) {
    // StreamingLLM: the cache holds keys before RoPE; all of them are rotated at their index in
    // the cache (the new ones' indices are their positions, which the forward pass counted so).
    SINKLAB_INPUT_CHECK(rope.cos.defined(), "a streaming KV cache re-positions keys, which needs RoPE: {} has learned "
                        "positions", s.model_type);
    SINKLAB_INPUT_CHECK(!hooks.edits(site("rot_k")), "{} cannot be edited with a streaming KV cache (its keys are "
                        "rotated again at every step): edit k", site("rot_k"));
    q = apply_rope(q, rope.cos, rope.sin, s.rotary_dim());
    q = hooks.pass(site("rot_q"), q.transpose(1, 2)).transpose(1, 2);
    std::tie(k, v) = cache->append(std::size_t(l), std::size_t(s.num_layers), k, v);
    const std::int64_t S = k.size(2);
    const Rope keys = this->rope(at::arange(S, k.options().dtype(at::kLong)).unsqueeze(0).expand({B, S}),
                                 s.rope_local_theta > 0 && s.slides(l));
    k = apply_rope(k, keys.cos, keys.sin, s.rotary_dim());
    hooks.record(site("rot_k"), k.narrow(2, S - T, T).transpose(1, 2));
  } else {
    if (rope.cos.defined()) {
      q = apply_rope(q, rope.cos, rope.sin, s.rotary_dim());
      k = apply_rope(k, rope.cos, rope.sin, s.rotary_dim());
      q = hooks.pass(site("rot_q"), q.transpose(1, 2)).transpose(1, 2);
      k = hooks.pass(site("rot_k"), k.transpose(1, 2)).transpose(1, 2);
    }
    // Keys rotated; a bounded cache keeps a sliding layer's last window - 1 positions only.
    if (cache)
      std::tie(k, v) =
          cache->append(std::size_t(l), std::size_t(s.num_layers), k, v, s.slides(l) ? *s.sliding_window - 1 : 0);
  }
  if (KV != H) {  // grouped-query attention: each K/V head serves H/KV query heads
    k = k.repeat_interleave(H / KV, 1);
    v = v.repeat_interleave(H / KV, 1);
  }
  auto z = attend(q, k, v, masking.blocked, {s.attention_scale(), s.attn_softcap}, hooks, int(l));  // [B, H, T, hd]
  SINKLAB_INPUT_CHECK(!hooks.edits(site("result")), "{} is computed for hooks only: intervene on z (each head's output "
                      "before W_O) instead", site("result"));
  if (hooks.wants(site("result")))  // each head through its slice of W_O: [B, T, H, D]
    hooks.record(site("result"), at::einsum("bhtd,mhd->bthm", {z, b.o.weight.view({D, H, hd})}));
  auto attn_out = linear(z.transpose(1, 2).reshape({B, T, H * hd}), b.o.weight, b.o.bias);
  attn_out = hooks.pass(site("attn_out"), attn_out);
  if (b.post_attn_norm.weight.defined()) attn_out = norm(attn_out, b.post_attn_norm);
  if (!s.parallel_residual) {
    h = h + attn_out;
    h = hooks.pass(site("resid_mid"), h);
  }

  // A parallel block's MLP reads the block's input, a sequential one the stream after attention.
  const at::Tensor& mlp_stream = s.parallel_residual ? block_input : h;
  auto x2 = b.mlp_norm.weight.defined() ? norm(mlp_stream, b.mlp_norm) : mlp_stream;
  x2 = hooks.pass(site("normalized"), x2);
  auto pre = linear(x2, b.mlp_in.weight, b.mlp_in.bias);  // [B, T, I]
  pre = hooks.pass(site("pre"), pre);
  at::Tensor post = activate(s.hidden_act, pre);
  if (family().mlp == MlpKind::gated) {
    auto pre_linear = linear(x2, b.mlp_up.weight, b.mlp_up.bias);
    pre_linear = hooks.pass(site("pre_linear"), pre_linear);
    post = post * pre_linear;
  }
  post = hooks.pass(site("post"), post);
  auto mlp = linear(post, b.mlp_out.weight, b.mlp_out.bias);
  mlp = hooks.pass(site("mlp_out"), mlp);
  if (b.post_mlp_norm.weight.defined()) mlp = norm(mlp, b.post_mlp_norm);
  h = s.parallel_residual ? (mlp + attn_out) + h : h + mlp;  // transformers' order of the sums
  h = hooks.pass(site("resid_post"), h);
  return h;
}

at::Tensor TransformerLM::forward(const at::Tensor& input_ids, HookPoints& hooks, KvCache* cache,
                                  const at::Tensor& attention_mask_in) const {
  at::NoGradGuard no_grad;
  const ModelSpec& s = spec_;
  // Everything is computed where the weights are (CPU, or CUDA after to()).
  const auto [ids, attention_mask] = prepare_inputs(input_ids, attention_mask_in, token_embed_.device(), s.vocab_size);
  const std::int64_t past = cache ? cache->next_position() : 0;
  SINKLAB_INPUT_CHECK(s.rotary || past + ids.size(1) <= s.max_positions, "{} takes at most {} positions, got {}",
                      s.model_type, s.max_positions, past + ids.size(1));
  const LayerContext c = layer_context(ids, past, attention_mask);
  at::Tensor h = embed_at(ids, c.masking(s, 0).positions, hooks);  // [B, T, D]
  for (std::int64_t l = 0; l < s.num_layers; ++l) h = block(l, h, c.masking(s, l), c.rope(s, l), hooks, cache);
  if (cache) cache->tokens += ids.size(1);
  at::Tensor final = normalize(h, family().norm, final_norm_.weight, final_norm_.bias, s.norm_eps);
  final = hooks.pass("ln_final.hook_normalized", final);
  at::Tensor logits = at::matmul(final, lm_head_.t());  // [B, T, V]
  if (s.final_softcap) logits = at::tanh(logits / *s.final_softcap) * *s.final_softcap;  // Gemma 2
  return logits.to(at::kFloat);
}

}  // namespace sinklab
