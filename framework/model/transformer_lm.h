#pragma once
// The one decoder-only transformer behind every family (families/), computed exactly as
// transformers computes it with eager attention and no weight folding: pre-norm blocks (RMSNorm
// or LayerNorm), attention with rotary or learned positions, grouped-query heads, optional biases
// and sliding window, a gated or plain MLP. The family says which, and what the tensors are called.
//
// Weights stay as the checkpoint stores them (fused, Conv1D-transposed, in the loading dtype);
// the computation reads views of them ([out, in], a slice for each fused part), so pruning writes
// through LinearLayer.weight into the stored tensors and nothing is held twice.
#include <ATen/core/Tensor.h>

#include <map>
#include <string>
#include <vector>

#include "framework/model/family.h"
#include "framework/model/language_model.h"

namespace sinklab {

class CheckpointDir;

class TransformerLM : public LanguageModel {
 public:
  // Loads `<dir>/config.json` and the safetensors weights, converted to `dtype`; checks every
  // shape and warns about tensors it does not use.
  static TransformerLM load(const std::string& dir, at::ScalarType dtype = at::kFloat);
  const ModelSpec& spec() const override { return spec_; }
  const Family& family() const { return *spec_.family; }
  void to(c10::Device device) override;

  // ids [B, T] int64 -> logits [B, T, vocab] float32, recording the hook sites `hooks` wants
  // (hooks/hook_sites.h; rot_q/rot_k only with rotary positions, pos_embed only with learned).
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
  // Every stored tensor under its checkpoint name, in its fused layout and its file's dtype.
  std::vector<std::pair<std::string, at::Tensor>> checkpoint_tensors() const override;
  std::vector<std::pair<std::string, at::Tensor>> checkpoint_tensors(std::int64_t layer) const override;
  void assign_checkpoint_tensors(const std::vector<std::pair<std::string, at::Tensor>>& tensors) override;
  std::size_t release_block_memory(std::int64_t layer) override;

 private:
  struct Stored {
    std::string name;         // as in the checkpoint (optional prefix already resolved)
    at::Tensor tensor;        // as stored, converted to the loading dtype
    at::ScalarType file_dtype;
    std::int64_t layer;       // its block, -1 outside the blocks
  };
  struct Linear {
    at::Tensor weight, bias;  // [out, in] view; [out] view, undefined without a bias
  };
  struct Norm {
    at::Tensor weight, bias;  // [D]; LayerNorm's bias, undefined for RMSNorm
  };
  struct Block {
    Norm attn_norm, mlp_norm;
    Linear q, k, v, o;               // [H*hd, D], [KV*hd, D], [KV*hd, D], [D, H*hd]
    Linear mlp_in, mlp_up, mlp_out;  // [I, D], [I, D] (gated only), [D, I]
  };
  struct Rope {
    at::Tensor cos, sin;  // [B, 1, T, rotary_dim]; undefined with learned positions
  };

  // Checkpoint name of a family name ("{}" already formatted): drops the optional prefix when
  // the checkpoint has none.
  std::string stored_name(const std::string& family_name) const;
  const at::Tensor& stored(const std::string& name) const;
  at::Tensor weight_view(Role role, std::int64_t layer) const;  // [out, in] for linear maps
  at::Tensor bias_view(Role role, std::int64_t layer) const;    // undefined without a bias
  void bind_views();  // after loading and after to(): every view below from stored_

  Rope rope(const at::Tensor& positions) const;  // positions [B, T]
  at::Tensor embed_at(const at::Tensor& ids, const at::Tensor& positions, HookPoints& hooks) const;
  at::Tensor block(std::int64_t layer, at::Tensor h, const AttentionMasking& masking, const Rope& rope,
                   HookPoints& hooks, KvCache* cache) const;
  void check_layer(std::int64_t layer) const;
  void check_shapes(const CheckpointDir& ckpt, const std::vector<CheckpointTensor>& layout) const;

  ModelSpec spec_;
  bool drop_prefix_ = false;
  std::vector<Stored> stored_;              // in the checkpoint_layout order
  std::map<std::string, std::size_t> index_;  // name -> position in stored_
  at::Tensor token_embed_, pos_embed_, lm_head_;  // [V, D], [P, D] or undefined, [V, D] (may be token_embed_)
  Norm final_norm_;
  std::vector<Block> blocks_;
};

}  // namespace sinklab
