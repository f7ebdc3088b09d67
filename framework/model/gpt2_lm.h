#pragma once
// GPT-2 (transformers' GPT2LMHeadModel): learned positions, pre-LayerNorm blocks, fused c_attn
// in Conv1D layout ([in, out], y = x W + b), GELU (tanh) MLP, lm_head tied to the token
// embedding. Same hook sites as the llama family.
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "framework/model/language_model.h"

namespace sinklab {

class Gpt2LM : public LanguageModel {
 public:
  static Gpt2LM load(const std::string& dir, at::ScalarType dtype = at::kFloat);
  const ModelSpec& spec() const override { return spec_; }
  void to(c10::Device device) override;
  at::Tensor forward(const at::Tensor& ids, HookPoints& hooks, KvCache* cache = nullptr,
                     const at::Tensor& attention_mask = at::Tensor()) const override;
  using LanguageModel::forward;
  AttentionWeights attention_weights(std::int64_t layer) const override;
  at::Tensor embed(const at::Tensor& ids) const override;
  at::Tensor run_block(std::int64_t layer, const at::Tensor& h, HookPoints& hooks) const override;
  std::vector<LinearLayer> linear_layers(std::int64_t layer) override;
  std::vector<std::pair<std::string, at::Tensor>> checkpoint_tensors() const override;

 private:
  struct Block {
    at::Tensor ln1_w, ln1_b, attn_w, attn_b, proj_w, proj_b;  // attn_w [D, 3D], proj_w [D, D] (Conv1D)
    at::Tensor ln2_w, ln2_b, fc_w, fc_b, out_w, out_b;        // fc_w [D, I], out_w [I, D]
  };
  at::Tensor embed_at(const at::Tensor& ids, const at::Tensor& positions) const;
  at::Tensor block(std::int64_t layer, at::Tensor h, const AttentionMasking& masking, HookPoints& hooks, KvCache* cache) const;
  ModelSpec spec_;
  std::string prefix_;  // "transformer." or "" (older checkpoints)
  at::Tensor wte_, wpe_, lnf_w_, lnf_b_;  // [V, D], [P, D], [D], [D]
  std::vector<Block> blocks_;
};

}  // namespace sinklab
