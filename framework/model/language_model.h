#pragma once
// A causal language model loaded from a HuggingFace checkpoint directory, whatever its family
// (the families are in families/registry.h; TransformerLM computes them all).
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "framework/hooks/hook_points.h"
#include "framework/model/attention.h"
#include "framework/model/linear_layer.h"
#include "framework/model/model_spec.h"

namespace sinklab {

// The attention projections of one block as [out, in] matrices (nn.Linear's layout), whatever
// the checkpoint stores: q [H*hd, D], k and v [KV*hd, D], o [D, H*hd]. Views, not copies.
struct AttentionWeights {
  at::Tensor q, k, v, o;
};

// Below this many bytes of converted blocks, a model in a dtype other than its file's is
// converted whole once at load (it costs little memory, and converting every block on every
// forward pass would cost a small model's many short passes more than their matmuls); above
// it, one block at a time as it runs. Both the loader and the memory plan read it.
constexpr double kConvertWholeBelowBytes = 1024.0 * 1024.0 * 1024.0;

class LanguageModel {
 public:
  virtual ~LanguageModel() = default;
  virtual const ModelSpec& spec() const = 0;
  // Computes on `device` from now on: the weights move there, all at once, or with
  // `offload_blocks` one block at a time as it runs (for a model larger than the GPU; on the
  // CPU blocks are always read from the checkpoint's mapping as they run).
  virtual void to(c10::Device device, bool offload_blocks = false) = 0;
  // ids [B, T] int64 -> logits [B, T, vocab] float32; records the hook sites `hooks` asks for.
  // `attention_mask` [B, cached + T] (1 = token, 0 = padding); `cache` continues a sequence.
  virtual at::Tensor forward(const at::Tensor& ids, HookPoints& hooks, KvCache* cache = nullptr,
                             const at::Tensor& attention_mask = at::Tensor()) const = 0;
  at::Tensor forward(const at::Tensor& ids) const;
  virtual AttentionWeights attention_weights(std::int64_t layer) const = 0;

  // Block by block (sequential calibration): the residual stream entering block 0 [B, T, D],
  // and one block applied to a residual stream [B, T, D] of unpadded sequences.
  virtual at::Tensor embed(const at::Tensor& ids) const = 0;
  virtual at::Tensor run_block(std::int64_t layer, const at::Tensor& h, HookPoints& hooks) const = 0;
  // The linear maps of one block, in a fixed order (pruning edits them in place).
  virtual std::vector<LinearLayer> linear_layers(std::int64_t layer) = 0;
  // Every weight under the name and in the layout the checkpoint stores it (fused again where
  // the family fuses), for saving an edited model as a HuggingFace checkpoint.
  virtual std::vector<std::pair<std::string, at::Tensor>> checkpoint_tensors() const = 0;
  // The same for block `layer` only; -1: the tensors outside the blocks (embeddings, norm, head).
  virtual std::vector<std::pair<std::string, at::Tensor>> checkpoint_tensors(std::int64_t layer) const = 0;
  // Overwrites stored weights by checkpoint name (converted to the model's dtype, shapes checked):
  // what checkpoint_tensors handed out goes back in.
  virtual void assign_checkpoint_tensors(const std::vector<std::pair<std::string, at::Tensor>>& tensors) = 0;
  // Gives back the memory that edits to block `layer` took where its weights view the checkpoint
  // file (copy-on-write pages); returns the bytes released. The block's weights are unspecified
  // afterwards (the file's values or the edited ones): call it only once the edits are saved.
  virtual std::size_t release_block_memory(std::int64_t layer) = 0;
  // Greedy decoding with the KV cache: prompt ids -> prompt + up to max_new ids (stops at stop_id).
  // `on_step`, if given, sees each step's next-token logits [vocab] float32 before the argmax.
  using StepLogits = std::function<void(const at::Tensor& logits)>;
  std::vector<std::int64_t> generate_greedy(const std::vector<std::int64_t>& prompt, int max_new,
                                            std::int64_t stop_id = -1, const StepLogits& on_step = {}) const;
};

// Loads `dir` with the family its config.json's model_type names (all_families()), computing in
// `dtype` on `device` (see to()).
std::unique_ptr<LanguageModel> load_language_model(const std::string& dir, at::ScalarType dtype = at::kFloat,
                                                   c10::Device device = c10::Device(c10::DeviceType::CPU),
                                                   bool offload_blocks = false);

}  // namespace sinklab
