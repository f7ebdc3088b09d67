#pragma once
// The decoder-only language models of the llama family (llama, mistral, qwen2, phi3), computed
// exactly as transformers computes them with eager attention and no weight folding: pre-RMSNorm,
// rotary attention (partial rotary, grouped-query, optional q/k/v bias, optional sliding window),
// SiLU-gated MLP. Phi-3's fused qkv_proj and gate_up_proj are split into Q, K, V / gate, up when
// loading, so every family has the same weights inside.
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "framework/hooks/hook_points.h"
#include "framework/model/attention.h"
#include "framework/model/language_model.h"
#include "framework/model/model_spec.h"

namespace sinklab {

struct DecoderLayer {
  at::Tensor attn_norm;                // [D]
  at::Tensor q, k, v, o;               // [H*hd, D], [KV*hd, D], [KV*hd, D], [D, H*hd]
  at::Tensor q_bias, k_bias, v_bias;   // undefined unless spec.attention_bias
  at::Tensor mlp_norm;                 // [D]
  at::Tensor gate, up, down;           // [I, D], [I, D], [D, I]
};

class DecoderLM : public LanguageModel {
 public:
  // Loads `<dir>/config.json` and the safetensors weights, converted to `dtype`; checks every
  // shape and warns about tensors it does not use.
  static DecoderLM load(const std::string& dir, at::ScalarType dtype = at::kFloat);
  const ModelSpec& spec() const override { return spec_; }
  void to(c10::Device device) override;

  // ids [B, T] int64 -> logits [B, T, vocab] float32. Hook sites requested in `hooks` are
  // recorded: blocks.{l}.hook_resid_pre ... (see hooks/hook_points.h), hook_embed,
  // ln_final.hook_normalized.
  // `attention_mask` [B, cached + T] (1 = token, 0 = padding) hides padded keys; positions then
  // count real tokens only (left padding works as in transformers' generate). With `cache`, ids
  // continue the cached sequence and their keys/values are appended to it.
  at::Tensor forward(const at::Tensor& ids, HookPoints& hooks, KvCache* cache = nullptr,
                     const at::Tensor& attention_mask = at::Tensor()) const override;
  using LanguageModel::forward;
  AttentionWeights attention_weights(std::int64_t layer) const override;
  at::Tensor embed(const at::Tensor& ids) const override;
  at::Tensor run_block(std::int64_t layer, const at::Tensor& h, HookPoints& hooks) const override;
  std::vector<LinearLayer> linear_layers(std::int64_t layer) override;
  std::vector<std::pair<std::string, at::Tensor>> checkpoint_tensors() const override;

 private:
  struct Rope {
    at::Tensor cos, sin;  // [B, 1, T, rotary_dim]
  };
  Rope rope(const at::Tensor& positions) const;
  at::Tensor block(std::int64_t layer, at::Tensor h, const AttentionMasking& masking, const Rope& rope, HookPoints& hooks,
                   KvCache* cache) const;
  ModelSpec spec_;
  at::Tensor embed_, final_norm_, lm_head_;  // [V, D], [D], [V, D]
  std::vector<DecoderLayer> layers_;
};

}  // namespace sinklab
