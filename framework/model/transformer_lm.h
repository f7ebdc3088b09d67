#pragma once
// The one decoder-only transformer behind every family (families/), computed exactly as
// transformers computes it with eager attention and no weight folding: pre-, post- or sandwich-norm
// blocks (RMSNorm variants or LayerNorm), sequential or parallel residual, attention with rotary
// (partial, scaled, per layer type) or learned positions, grouped-query heads, optional biases,
// q/k norms, soft-capping and per-layer sliding windows, a gated or plain MLP. The family says
// which, and what the tensors are called.
//
// Weights stay as the checkpoint stores them: fused, Conv1D-transposed, in the file's dtype, read
// through its memory mapping. The computation reads views of them ([out, in], a slice for each
// fused part). Only the tensors outside the blocks (embeddings, final norm, head) are converted
// to the compute dtype and device for good; a block is converted when it runs and dropped after
// it (free when the dtype and device are the file's: the views are the mapping), so a model in
// another dtype, or on a GPU it does not fit, is never copied whole. A block is "resident" (its
// converted copy kept) while pruning edits it - LinearLayer.weight writes into it - and on a GPU
// the model fits on (to(device) without offload). A small model (kConvertWholeBelowBytes) is
// converted whole once instead.
#include <ATen/core/Tensor.h>

#include <functional>
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
  // Blocks are converted whole at load when they come to less than `convert_whole_below` bytes.
  static TransformerLM load(const std::string& dir, at::ScalarType dtype = at::kFloat,
                            double convert_whole_below = kConvertWholeBelowBytes);
  const ModelSpec& spec() const override { return spec_; }
  const Family& family() const { return *spec_.family; }
  void to(c10::Device device, bool offload_blocks = false) override;

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
    at::Tensor mapped;        // as in the file: a view of its mapping (file dtype, CPU)
    at::Tensor resident;      // in the compute dtype on the device, kept; undefined: converted per use
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
    Norm attn_norm, mlp_norm;             // [D]; undefined in a post-norm block
    Norm post_attn_norm, post_mlp_norm;   // [D]; on the sublayers' outputs (Gemma, OLMo 2), else undefined
    Norm q_norm, k_norm;                  // [hd] per head or [H*hd] / [KV*hd] whole; undefined without
    Linear qkv;                           // [3*H*hd, D] rows per head [H, 3, hd] (GPT-NeoX); else undefined
    Linear q, k, v, o;                    // [H*hd, D], [KV*hd, D], [KV*hd, D] (undefined with qkv), [D, H*hd]
    Linear mlp_in, mlp_up, mlp_out;       // [I, D], [I, D] (gated only), [D, I]
  };
  struct Rope {
    at::Tensor cos, sin;  // [B, 1, T, rotary_dim]; undefined with learned positions
  };

  // Checkpoint name of a family name ("{}" already formatted): drops the optional prefix when
  // the checkpoint has none.
  std::string stored_name(const std::string& family_name) const;
  // A stored tensor by checkpoint name, as the computation sees it (see `Weights`).
  using Lookup = std::function<const at::Tensor&(const std::string& name)>;
  at::Tensor weight_view(const Lookup& find, Role role, std::int64_t layer) const;  // [out, in] for linear maps
  at::Tensor bias_view(const Lookup& find, Role role, std::int64_t layer) const;    // undefined without a bias
  Block bind_block(const Lookup& find, std::int64_t layer) const;
  const at::Tensor& resident(const std::string& name) const;  // its kept copy (checked)
  Lookup resident_lookup() const {
    return [this](const std::string& name) -> const at::Tensor& { return resident(name); };
  }
  void bind_outside();  // the views outside the blocks, from their resident tensors
  // Block `layer`'s weights for one use: its resident views, or the mapped tensors converted
  // into `scratch` (which then owns them until the caller drops it).
  const Block& weights(std::int64_t layer, Block& scratch) const;
  void make_resident(std::int64_t layer);  // converts the block and keeps it (pruning edits it)
  void evict(std::int64_t layer);          // drops the block's converted copy
  at::Tensor compute_form(const at::Tensor& mapped) const;  // mapped -> compute dtype and device

  Rope rope(const at::Tensor& positions, bool local) const;  // positions [B, T]; local: a sliding layer's (Gemma 3)
  // What layer `l` attends with: the sliding or the full mask, the local or the global RoPE.
  struct LayerContext {
    AttentionMasking full, sliding;  // sliding only when some layer slides
    Rope global, local;              // local only with ModelSpec::rope_local_theta
    const AttentionMasking& masking(const ModelSpec& s, std::int64_t l) const { return s.slides(l) ? sliding : full; }
    const Rope& rope(const ModelSpec& s, std::int64_t l) const { return s.rope_local_theta > 0 && s.slides(l) ? local : global; }
  };
  LayerContext layer_context(const at::Tensor& ids, std::int64_t cached, const at::Tensor& attention_mask) const;
  at::Tensor embed_at(const at::Tensor& ids, const at::Tensor& positions, HookPoints& hooks) const;
  at::Tensor block(std::int64_t layer, at::Tensor h, const AttentionMasking& masking, const Rope& rope,
                   HookPoints& hooks, KvCache* cache) const;
  void check_layer(std::int64_t layer) const;
  void check_shapes(const CheckpointDir& ckpt, const std::vector<CheckpointTensor>& layout) const;

  ModelSpec spec_;
  bool drop_prefix_ = false;
  at::ScalarType dtype_ = at::kFloat;          // the compute dtype
  c10::Device device_ = c10::Device(c10::DeviceType::CPU);
  std::vector<Stored> stored_;                 // in the checkpoint_layout order
  std::map<std::string, std::size_t> index_;   // name -> position in stored_
  std::vector<std::vector<std::size_t>> block_tensors_;  // per block, its positions in stored_
  at::Tensor token_embed_, pos_embed_, lm_head_;  // [V, D], [P, D] or undefined, [V, D] (may be token_embed_)
  Norm final_norm_;
  std::vector<Block> blocks_;  // views of resident blocks; empty Block for the others
  std::vector<bool> resident_;
  bool convert_whole_ = false;  // on the CPU: every block resident (same dtype, or small enough)
};

}  // namespace sinklab
