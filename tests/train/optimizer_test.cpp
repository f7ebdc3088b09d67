// Adam/AdamW, the schedule and clipping, against values worked out by hand.
#include <ATen/ATen.h>

#include "tests/support/catch.h"
#include <cmath>

#include "framework/train/optimizer.h"

using namespace sinklab;

TEST_CASE("Adam's first step moves each parameter by lr against the sign of its gradient", "[train]") {
  // m_hat = g and v_hat = g^2 after one step, so the update is -lr * g / (|g| + eps).
  auto p = at::tensor({1.0, -2.0, 3.0}, at::kDouble).set_requires_grad(true);
  (p * at::tensor({0.5, -4.0, 0.0}, at::kDouble)).sum().backward();  // grad = (0.5, -4, 0)
  OptimizerConfig c;
  c.kind = "adam";
  c.lr = 0.1;
  AdamOptimizer opt({p}, c);
  opt.step(c.lr);
  CHECK(p[0].item<double>() == Approx(0.9));
  CHECK(p[1].item<double>() == Approx(-1.9));
  CHECK(p[2].item<double>() == Approx(3.0));  // zero gradient: no move
}

TEST_CASE("AdamW decays weights decoupled from the gradient", "[train]") {
  auto p = at::tensor({2.0}, at::kDouble).set_requires_grad(true);
  p.mutable_grad() = at::zeros({1}, at::kDouble);
  OptimizerConfig c;
  c.kind = "adamw";
  c.weight_decay = 0.5;
  AdamOptimizer opt({p}, c);
  opt.step(0.1);
  CHECK(p.item<double>() == Approx(2.0 * (1 - 0.1 * 0.5)));
}

TEST_CASE("Adam minimises a quadratic", "[train]") {
  auto p = at::tensor({5.0, -3.0}, at::kDouble).set_requires_grad(true);
  OptimizerConfig c;
  c.lr = 0.1;
  AdamOptimizer opt({p}, c);
  for (int i = 0; i < 500; ++i) {
    opt.zero_grad();
    (p - at::tensor({1.0, 2.0}, at::kDouble)).pow(2).sum().backward();
    opt.step(c.lr);
  }
  CHECK(p[0].item<double>() == Approx(1.0).margin(1e-3));
  CHECK(p[1].item<double>() == Approx(2.0).margin(1e-3));
}

TEST_CASE("learning-rate schedules: warm-up, then constant, linear or cosine decay", "[train]") {
  OptimizerConfig c;
  c.lr = 1.0;
  c.warmup_steps = 10;
  c.min_lr_ratio = 0.1;
  CHECK(scheduled_lr(c, 0, 110) == Approx(0.1));
  CHECK(scheduled_lr(c, 9, 110) == Approx(1.0));
  c.schedule = "cosine";
  CHECK(scheduled_lr(c, 10, 110) == Approx(1.0));
  CHECK(scheduled_lr(c, 60, 110) == Approx(0.55));  // halfway: 0.1 + 0.9 * 0.5
  CHECK(scheduled_lr(c, 110, 110) == Approx(0.1));
  c.schedule = "linear";
  CHECK(scheduled_lr(c, 35, 110) == Approx(0.1 + 0.9 * 0.75));
  c.schedule = "constant";
  CHECK(scheduled_lr(c, 100, 110) == Approx(1.0));
}

TEST_CASE("gradient clipping scales the joint norm down to the limit", "[train]") {
  auto a = at::zeros({2}, at::kDouble).set_requires_grad(true), b = at::zeros({1}, at::kDouble).set_requires_grad(true);
  a.mutable_grad() = at::tensor({3.0, 0.0}, at::kDouble);
  b.mutable_grad() = at::tensor({4.0}, at::kDouble);
  CHECK(clip_grad_norm({a, b}, 1.0) == Approx(5.0));
  CHECK(a.grad()[0].item<double>() == Approx(0.6));
  CHECK(b.grad()[0].item<double>() == Approx(0.8));
  CHECK(clip_grad_norm({a, b}, 10.0) == Approx(1.0));  // under the limit: unchanged
  CHECK(b.grad()[0].item<double>() == Approx(0.8));
}
