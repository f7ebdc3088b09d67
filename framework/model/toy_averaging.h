#pragma once
// Trainable toy models for the averaging task (paper Section 4), usable like any model: named
// parameters, safetensors checkpoints, a forward pass that exposes every attention pattern and
// residual stream.
//
//   toy-averaging-2d  the paper's parametrisation exactly: theta = (W_V1, W_Q2, W_K2, W_V2, s_num,
//                     s_tag), numbers embed as [x, -1], [SEP] as [s_num, -s_tag]; layer 1 has no
//                     learnable query/key (A1 = softmax(E E^T)); no 1/sqrt(d) scaling.
//   toy-averaging     a small LLM-like causal transformer: number embedding x*u + b, a learnable
//                     [SEP] embedding, per layer Q/K/V/O projections over `heads` heads with
//                     1/sqrt(d_head) scaling, optional RMSNorm and GELU MLP, a linear read-out of
//                     the last token. Weights are [out, in] as HuggingFace stores them.
#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

#include "framework/config/fields.h"
#include "framework/hooks/hook_points.h"
#include "framework/model/averaging_theory.h"
#include "framework/model/linear_layer.h"

namespace sinklab {

class SafetensorsFile;

struct ToyModelSpec {
  std::string kind = "toy-averaging";
  int d_model = 32;
  int heads = 4;
  int layers = 2;
  bool mlp = false;
  bool norm = false;
  double init_std = 0.0;  // 0 = 1/sqrt(d_model) for toy-averaging, 0.5 for toy-averaging-2d
  double s_tag_init = 1.0;  // toy-averaging-2d: initial s_tag (1 = [SEP] starts with the numbers' tag)
  template <class V>
  void fields(V& v) {
    v("kind", kind, "toy-averaging-2d or toy-averaging", Check::one_of({"toy-averaging-2d", "toy-averaging"}));
    v("d_model", d_model, "width (toy-averaging; the 2-d model is 2 wide)", Check::between(2, 4096));
    v("heads", heads, "attention heads per layer (toy-averaging)", Check::between(1, 256));
    v("layers", layers, "depth (toy-averaging; at least 2)", Check::between(2, 64));
    v("mlp", mlp, "add a GELU MLP after each attention (toy-averaging)");
    v("norm", norm, "RMSNorm before attention, MLP and read-out (toy-averaging)");
    v("init_std", init_std, "standard deviation of the initial weights (0 = the kind's default)", Check::at_least(0));
    v("s_tag_init", s_tag_init, "initial s_tag (toy-averaging-2d)");
  }
  void validate(const Decoder& d) const {
    if (kind == "toy-averaging" && d_model % heads != 0)
      d.fail("heads", fmt::format("d_model ({}) must be divisible by heads ({})", d_model, heads));
  }
  bool is_2d() const { return kind == "toy-averaging-2d"; }
};

struct ToyTrace {
  std::vector<at::Tensor> attention;  // per layer [N, heads, T, T], rows = queries
  std::vector<at::Tensor> resid;      // residual stream after each layer [N, T, d_model]
  at::Tensor output;                  // [N] prediction at the last real token
};

// A matrix whose spectrum the low-rank measures read: W_Q W_K^T of one head, or W_V of a layer.
struct NamedMatrix {
  std::string name;  // "layer1.head0.W_QK", "layer0.W_V"
  int layer = 0, head = -1;
  at::Tensor matrix;
};

class ToyModel {
 public:
  // Fresh weights drawn from `seed` (float32, requires_grad).
  static ToyModel initialize(const ToyModelSpec& spec, std::uint64_t seed);
  // Weights from a checkpoint; every expected tensor must be there with its shape, and nothing else.
  static ToyModel load(const ToyModelSpec& spec, const SafetensorsFile& file);
  ToyModel clone() const;  // a deep copy (copying a ToyModel shares its weights)
  void save(const std::string& path, const std::map<std::string, std::string>& metadata = {}) const;

  // `hooks` (optional) sees, records and may edit (framework/intervene) every linear map's input
  // and the attention and residual stream, under the sites and shapes the language models use:
  // ln1_normalized, pattern, z [N, T, H, d_head], normalized, post, resid_post (toy-averaging).
  ToyTrace forward(const AveragingBatch& batch, HookPoints* hooks = nullptr) const;
  // toy-averaging: the Q, K, V, O (and MLP up/down) maps of one layer, writable in place.
  std::vector<LinearLayer> linear_layers(int layer);
  std::vector<at::Tensor> parameters() const;
  const std::vector<std::pair<std::string, at::Tensor>>& named_parameters() const { return params_; }
  std::vector<NamedMatrix> qk_matrices() const;     // per layer with learnable Q/K, per head
  std::vector<NamedMatrix> value_matrices() const;  // per layer
  const ToyModelSpec& spec() const { return spec_; }

 private:
  const at::Tensor& param(const std::string& name) const;
  ToyTrace forward_2d(const AveragingBatch& batch) const;
  ToyTrace forward_wide(const AveragingBatch& batch, HookPoints* hooks) const;
  ToyModelSpec spec_;
  std::vector<std::pair<std::string, at::Tensor>> params_;
};

// The parameter names and shapes a spec implies, in checkpoint order.
std::vector<std::pair<std::string, std::vector<std::int64_t>>> toy_parameter_shapes(const ToyModelSpec& spec);

}  // namespace sinklab
