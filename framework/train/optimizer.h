#pragma once
// Adam / AdamW (Kingma & Ba 2015; Loshchilov & Hutter 2019), a learning-rate schedule with
// linear warm-up, and global-norm gradient clipping: the few pieces of training sinklab needs,
// written on ATen so they build against LibTorch 1.13 and 2.x alike.
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "framework/config/fields.h"

namespace sinklab {

struct OptimizerConfig {
  std::string kind = "adamw";  // adam: L2 penalty in the gradient; adamw: decoupled weight decay
  double lr = 1e-2;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double weight_decay = 0.0;
  std::string schedule = "cosine";  // constant | linear | cosine (decay after warm-up)
  int warmup_steps = 100;
  double min_lr_ratio = 0.1;  // the schedule decays to lr * min_lr_ratio
  double clip_norm = 1.0;     // global gradient-norm clip; 0 disables
  template <class V>
  void fields(V& v) {
    v("kind", kind, "adam or adamw", Check::one_of({"adam", "adamw"}));
    v("lr", lr, "peak learning rate", Check::greater_than(0));
    v("beta1", beta1, "Adam beta1", Check::between(0, 0.999999));
    v("beta2", beta2, "Adam beta2", Check::between(0, 0.999999));
    v("eps", eps, "Adam epsilon", Check::greater_than(0));
    v("weight_decay", weight_decay, "weight decay", Check::at_least(0));
    v("schedule", schedule, "learning-rate schedule", Check::one_of({"constant", "linear", "cosine"}));
    v("warmup_steps", warmup_steps, "linear warm-up steps", Check::at_least(0));
    v("min_lr_ratio", min_lr_ratio, "final lr / peak lr", Check::between(0, 1));
    v("clip_norm", clip_norm, "max global gradient norm (0 = off)", Check::at_least(0));
  }
};

// The learning rate at `step` (0-based) of `total` steps.
double scheduled_lr(const OptimizerConfig& c, int step, int total);

// Scales all gradients so their joint L2 norm is at most max_norm; returns the norm before.
double clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm);

class AdamOptimizer {
 public:
  AdamOptimizer(std::vector<at::Tensor> params, OptimizerConfig config);
  void zero_grad();
  void step(double lr);  // uses each parameter's .grad(); parameters without a gradient are skipped

 private:
  std::vector<at::Tensor> params_, m_, v_;
  OptimizerConfig c_;
  int t_ = 0;
};

}  // namespace sinklab
