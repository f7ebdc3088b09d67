#include "framework/train/optimizer.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>

namespace sinklab {

double scheduled_lr(const OptimizerConfig& c, int step, int total) {
  if (c.warmup_steps > 0 && step < c.warmup_steps) return c.lr * double(step + 1) / c.warmup_steps;
  if (c.schedule == "constant") return c.lr;
  double span = std::max(1, total - c.warmup_steps);
  double progress = std::min(1.0, double(step - c.warmup_steps) / span);
  double decay = c.schedule == "linear" ? 1.0 - progress : 0.5 * (1.0 + std::cos(M_PI * progress));
  return c.lr * (c.min_lr_ratio + (1.0 - c.min_lr_ratio) * decay);
}

double clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm) {
  at::NoGradGuard no_grad;
  double total = 0.0;
  for (const auto& p : params)
    if (p.grad().defined()) total += p.grad().to(at::kDouble).pow(2).sum().item<double>();
  total = std::sqrt(total);
  if (max_norm > 0 && total > max_norm)
    for (const auto& p : params)
      if (p.grad().defined()) p.grad().mul_(max_norm / (total + 1e-12));
  return total;
}

AdamOptimizer::AdamOptimizer(std::vector<at::Tensor> params, OptimizerConfig config)
    : params_(std::move(params)), c_(std::move(config)) {
  for (const auto& p : params_) {
    m_.push_back(at::zeros_like(p));
    v_.push_back(at::zeros_like(p));
  }
}

void AdamOptimizer::zero_grad() {
  for (auto& p : params_)
    if (p.grad().defined()) p.mutable_grad() = at::Tensor();
}

void AdamOptimizer::step(double lr) {
  at::NoGradGuard no_grad;
  ++t_;
  const double bc1 = 1.0 - std::pow(c_.beta1, t_), bc2 = 1.0 - std::pow(c_.beta2, t_);
  for (std::size_t i = 0; i < params_.size(); ++i) {
    at::Tensor& p = params_[i];
    if (!p.grad().defined()) continue;
    at::Tensor g = p.grad();
    if (c_.kind == "adam" && c_.weight_decay > 0) g = g + c_.weight_decay * p;
    if (c_.kind == "adamw" && c_.weight_decay > 0) p.mul_(1.0 - lr * c_.weight_decay);
    m_[i].mul_(c_.beta1).add_(g, 1.0 - c_.beta1);
    v_[i].mul_(c_.beta2).addcmul_(g, g, 1.0 - c_.beta2);
    auto denom = (v_[i] / bc2).sqrt_().add_(c_.eps);
    p.addcdiv_(m_[i], denom, -lr / bc1);
  }
}

}  // namespace sinklab
