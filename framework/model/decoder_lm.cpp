#include "framework/model/decoder_lm.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "framework/io/checkpoint_dir.h"
#include "framework/util/error.h"
#include "framework/util/log.h"
#include "framework/util/strings.h"

namespace sinklab {
namespace {

// transformers' RMSNorm: normalise in float32, scale in the input dtype.
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& w, double eps) {
  auto xf = x.to(at::kFloat);
  auto normed = xf * at::rsqrt(xf.pow(2).mean(-1, true) + eps);
  return w * normed.to(x.scalar_type());
}

// x [B, heads, T, hd]: rotates the first rotary_dim dims (rotate_half convention).
at::Tensor apply_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin, std::int64_t rotary_dim) {
  auto rot = x.narrow(-1, 0, rotary_dim), pass = x.narrow(-1, rotary_dim, x.size(-1) - rotary_dim);
  auto half = rotary_dim / 2;
  auto rotated = at::cat({-rot.narrow(-1, half, half), rot.narrow(-1, 0, half)}, -1);
  return at::cat({rot * cos + rotated * sin, pass}, -1);
}

}  // namespace

DecoderLM DecoderLM::load(const std::string& dir, at::ScalarType dtype) {
  DecoderLM m;
  m.spec_ = ModelSpec::from_config_json((std::filesystem::path(dir) / "config.json").string());
  const ModelSpec& s = m.spec_;
  CheckpointDir ckpt(dir);
  const std::int64_t D = s.hidden_size, I = s.intermediate_size, H = s.num_heads, KV = s.num_kv_heads,
                     hd = s.head_dim, V = s.vocab_size;
  m.embed_ = ckpt.tensor("model.embed_tokens.weight", {V, D}, dtype);
  m.final_norm_ = ckpt.tensor("model.norm.weight", {D}, dtype);
  m.lm_head_ = s.tie_word_embeddings && !ckpt.has("lm_head.weight") ? m.embed_
                                                                     : ckpt.tensor("lm_head.weight", {V, D}, dtype);
  for (std::int64_t l = 0; l < s.num_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    DecoderLayer L;
    L.attn_norm = ckpt.tensor(p + "input_layernorm.weight", {D}, dtype);
    L.mlp_norm = ckpt.tensor(p + "post_attention_layernorm.weight", {D}, dtype);
    L.o = ckpt.tensor(p + "self_attn.o_proj.weight", {D, H * hd}, dtype);
    L.down = ckpt.tensor(p + "mlp.down_proj.weight", {D, I}, dtype);
    if (s.model_type == "phi3") {
      auto qkv = ckpt.tensor(p + "self_attn.qkv_proj.weight", {(H + 2 * KV) * hd, D}, dtype);
      L.q = qkv.narrow(0, 0, H * hd).contiguous();
      L.k = qkv.narrow(0, H * hd, KV * hd).contiguous();
      L.v = qkv.narrow(0, (H + KV) * hd, KV * hd).contiguous();
      auto gate_up = ckpt.tensor(p + "mlp.gate_up_proj.weight", {2 * I, D}, dtype);
      L.gate = gate_up.narrow(0, 0, I).contiguous();
      L.up = gate_up.narrow(0, I, I).contiguous();
    } else {
      L.q = ckpt.tensor(p + "self_attn.q_proj.weight", {H * hd, D}, dtype);
      L.k = ckpt.tensor(p + "self_attn.k_proj.weight", {KV * hd, D}, dtype);
      L.v = ckpt.tensor(p + "self_attn.v_proj.weight", {KV * hd, D}, dtype);
      L.gate = ckpt.tensor(p + "mlp.gate_proj.weight", {I, D}, dtype);
      L.up = ckpt.tensor(p + "mlp.up_proj.weight", {I, D}, dtype);
    }
    if (s.attention_bias) {
      L.q_bias = ckpt.tensor(p + "self_attn.q_proj.bias", {H * hd}, dtype);
      L.k_bias = ckpt.tensor(p + "self_attn.k_proj.bias", {KV * hd}, dtype);
      L.v_bias = ckpt.tensor(p + "self_attn.v_proj.bias", {KV * hd}, dtype);
    }
    m.layers_.push_back(std::move(L));
  }
  auto unused = ckpt.unused();
  if (!unused.empty())
    log::warn("{}: {} tensors not used by a {} model: {}", dir, unused.size(), s.model_type, join(unused, ", "));
  return m;
}

void DecoderLM::to(c10::Device device) {
  auto move = [&](at::Tensor& t) {
    if (t.defined()) t = t.to(device);
  };
  const bool tied = lm_head_.is_same(embed_);
  move(embed_);
  move(final_norm_);
  if (tied) lm_head_ = embed_;
  else move(lm_head_);
  for (auto& L : layers_)
    for (at::Tensor* t : {&L.attn_norm, &L.q, &L.k, &L.v, &L.o, &L.q_bias, &L.k_bias, &L.v_bias, &L.mlp_norm, &L.gate,
                          &L.up, &L.down})
      move(*t);
}

AttentionWeights DecoderLM::attention_weights(std::int64_t layer) const {
  SINKLAB_INPUT_CHECK(layer >= 0 && layer < spec_.num_layers, "layer {} does not exist: the model has layers 0..{}",
                      layer, spec_.num_layers - 1);
  const DecoderLayer& L = layers_[std::size_t(layer)];
  return {L.q, L.k, L.v, L.o};
}

DecoderLM::Rope DecoderLM::rope(const at::Tensor& positions) const {
  // Rotary tables [B, 1, T, rotary_dim], computed in float32 as transformers does.
  const std::int64_t rd = spec_.rotary_dim();
  auto inv_freq = 1.0 / at::pow(spec_.rope_theta, at::arange(0, rd, 2, embed_.options().dtype(at::kFloat)) / double(rd));
  auto freqs = positions.to(at::kFloat).unsqueeze(-1) * inv_freq;  // [B, T, rd/2]
  auto emb = at::cat({freqs, freqs}, -1).unsqueeze(1);
  return {emb.cos().to(embed_.scalar_type()), emb.sin().to(embed_.scalar_type())};
}

at::Tensor DecoderLM::embed(const at::Tensor& ids) const {
  return embed_.index_select(0, ids.reshape({-1}).to(embed_.device())).view({ids.size(0), ids.size(1), spec_.hidden_size});
}

at::Tensor DecoderLM::run_block(std::int64_t layer, const at::Tensor& h, HookPoints& hooks) const {
  at::NoGradGuard no_grad;
  SINKLAB_INPUT_CHECK(layer >= 0 && layer < spec_.num_layers, "layer {} does not exist: the model has layers 0..{}",
                      layer, spec_.num_layers - 1);
  auto shape_ids = at::zeros({h.size(0), h.size(1)}, h.options().dtype(at::kLong));
  AttentionMasking masking = make_attention_masking(shape_ids, 0, at::Tensor(), spec_.sliding_window);
  return block(layer, h, masking, rope(masking.positions), hooks, nullptr);
}

at::Tensor DecoderLM::block(std::int64_t l, at::Tensor h, const AttentionMasking& masking, const Rope& rope,
                            HookPoints& hooks, KvCache* cache) const {
  const ModelSpec& s = spec_;
  const std::int64_t B = h.size(0), T = h.size(1), H = s.num_heads, KV = s.num_kv_heads, hd = s.head_dim;
  const std::int64_t rd = s.rotary_dim();
  const DecoderLayer& L = layers_[std::size_t(l)];
  auto name = [&](const char* site) { return hook_name(int(l), site); };
  hooks.record(name("resid_pre"), h);
  auto x = rms_norm(h, L.attn_norm, s.rms_norm_eps);
  hooks.record(name("ln1_normalized"), x);
  auto proj = [&](const at::Tensor& w, const at::Tensor& b, std::int64_t heads) {  // -> [B, heads, T, hd]
    auto y = b.defined() ? at::addmm(b, x.reshape({B * T, -1}), w.t()) : at::matmul(x.reshape({B * T, -1}), w.t());
    return y.view({B, T, heads, hd}).transpose(1, 2);
  };
  auto q = apply_rope(proj(L.q, L.q_bias, H), rope.cos, rope.sin, rd);
  auto k = apply_rope(proj(L.k, L.k_bias, KV), rope.cos, rope.sin, rd);
  auto v = proj(L.v, L.v_bias, KV);
  hooks.record(name("q"), q.transpose(1, 2));
  hooks.record(name("k"), k.transpose(1, 2));
  hooks.record(name("v"), v.transpose(1, 2));
  if (cache) std::tie(k, v) = cache->append(std::size_t(l), std::size_t(s.num_layers), k, v);
  if (KV != H) {  // grouped-query attention: each K/V head serves H/KV query heads
    k = k.repeat_interleave(H / KV, 1);
    v = v.repeat_interleave(H / KV, 1);
  }
  auto z = attend(q, k, v, masking.blocked, hooks, int(l));  // [B, H, T, hd]
  if (hooks.wants(name("result"))) {
    // Each head's contribution through its slice of W_O: [B, T, H, D].
    auto wo = L.o.view({s.hidden_size, H, hd});
    hooks.record(name("result"), at::einsum("bhtd,mhd->bthm", {z, wo}));
  }
  auto attn_out = at::matmul(z.transpose(1, 2).reshape({B, T, H * hd}), L.o.t());
  hooks.record(name("attn_out"), attn_out);
  h = h + attn_out;
  hooks.record(name("resid_mid"), h);
  auto x2 = rms_norm(h, L.mlp_norm, s.rms_norm_eps);
  hooks.record(name("normalized"), x2);
  auto act = at::silu(at::matmul(x2, L.gate.t())) * at::matmul(x2, L.up.t());
  hooks.record(name("post"), act);
  auto mlp = at::matmul(act, L.down.t());
  hooks.record(name("mlp_out"), mlp);
  h = h + mlp;
  hooks.record(name("resid_post"), h);
  return h;
}

at::Tensor DecoderLM::forward(const at::Tensor& input_ids, HookPoints& hooks, KvCache* cache,
                              const at::Tensor& attention_mask_in) const {
  at::NoGradGuard no_grad;
  const ModelSpec& s = spec_;
  // Everything is computed where the weights are (CPU, or CUDA after to()).
  const auto [ids, attention_mask] = prepare_inputs(input_ids, attention_mask_in, embed_.device(), s.vocab_size);
  const std::int64_t past = cache ? cache->length() : 0;
  AttentionMasking masking = make_attention_masking(ids, past, attention_mask, s.sliding_window);
  const Rope r = rope(masking.positions);
  at::Tensor h = embed(ids);  // [B, T, D]
  hooks.record("hook_embed", h);
  for (std::int64_t l = 0; l < s.num_layers; ++l) h = block(l, h, masking, r, hooks, cache);
  auto final = rms_norm(h, final_norm_, s.rms_norm_eps);
  hooks.record("ln_final.hook_normalized", final);
  return at::matmul(final, lm_head_.t()).to(at::kFloat);
}

std::vector<LinearLayer> DecoderLM::linear_layers(std::int64_t layer) {
  SINKLAB_INPUT_CHECK(layer >= 0 && layer < spec_.num_layers, "layer {} does not exist: the model has layers 0..{}",
                      layer, spec_.num_layers - 1);
  DecoderLayer& L = layers_[std::size_t(layer)];
  const std::string p = "model.layers." + std::to_string(layer) + ".";
  auto in = [&](const char* site) { return hook_name(int(layer), site); };
  return {{p + "self_attn.q_proj", "q", L.q, in("ln1_normalized")},  {p + "self_attn.k_proj", "k", L.k, in("ln1_normalized")},
          {p + "self_attn.v_proj", "v", L.v, in("ln1_normalized")},  {p + "self_attn.o_proj", "o", L.o, in("z")},
          {p + "mlp.gate_proj", "gate", L.gate, in("normalized")},    {p + "mlp.up_proj", "up", L.up, in("normalized")},
          {p + "mlp.down_proj", "down", L.down, in("post")}};
}

std::vector<std::pair<std::string, at::Tensor>> DecoderLM::checkpoint_tensors() const {
  std::vector<std::pair<std::string, at::Tensor>> out{{"model.embed_tokens.weight", embed_}, {"model.norm.weight", final_norm_}};
  if (!lm_head_.is_same(embed_)) out.emplace_back("lm_head.weight", lm_head_);
  for (std::int64_t l = 0; l < spec_.num_layers; ++l) {
    const DecoderLayer& L = layers_[std::size_t(l)];
    const std::string p = "model.layers." + std::to_string(l) + ".";
    out.emplace_back(p + "input_layernorm.weight", L.attn_norm);
    out.emplace_back(p + "post_attention_layernorm.weight", L.mlp_norm);
    out.emplace_back(p + "self_attn.o_proj.weight", L.o);
    out.emplace_back(p + "mlp.down_proj.weight", L.down);
    if (spec_.model_type == "phi3") {  // fused again, as the checkpoint stores them
      out.emplace_back(p + "self_attn.qkv_proj.weight", at::cat({L.q, L.k, L.v}, 0));
      out.emplace_back(p + "mlp.gate_up_proj.weight", at::cat({L.gate, L.up}, 0));
    } else {
      out.emplace_back(p + "self_attn.q_proj.weight", L.q);
      out.emplace_back(p + "self_attn.k_proj.weight", L.k);
      out.emplace_back(p + "self_attn.v_proj.weight", L.v);
      out.emplace_back(p + "mlp.gate_proj.weight", L.gate);
      out.emplace_back(p + "mlp.up_proj.weight", L.up);
    }
    if (spec_.attention_bias) {
      out.emplace_back(p + "self_attn.q_proj.bias", L.q_bias);
      out.emplace_back(p + "self_attn.k_proj.bias", L.k_bias);
      out.emplace_back(p + "self_attn.v_proj.bias", L.v_bias);
    }
  }
  return out;
}

}  // namespace sinklab
