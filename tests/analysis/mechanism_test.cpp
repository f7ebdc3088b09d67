// The mechanism measures on Theorem 4.1's hand-set model, where the answers are known.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "tests/support/catch.h"
#include <cmath>

#include "framework/analysis/mechanism.h"
#include "framework/model/averaging_task.h"

using namespace sinklab;

TEST_CASE("measures on Theorem 4.1's model: catch 1, tag dimension 1, uniform release", "[analysis]") {
  AveragingTask task;
  task.max_length = 24;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(0);
  auto batch = sample_averaging_batch(task, 256, gen);
  auto fw = averaging_forward(AveragingParams2d::theorem41(1.0, 1.0, 30.0, at::Device(at::kCPU)), batch);
  ToyTrace trace{{fw.A1.unsqueeze(1), fw.A2.unsqueeze(1)}, {fw.H}, fw.f};
  auto m = measure_mechanism(trace, batch, 1);
  CHECK(m.catch_mass.sizes() == at::IntArrayRef({2, 1}));
  CHECK(m.catch_mass[0][0].item<double>() > 1 - 1e-9);
  CHECK(m.tag_dim == 1);
  CHECK(m.tag_abs_after[1].item<double>() == Approx(29.0).epsilon(1e-6));  // s_tag - 1
  CHECK(m.tag_abs_before[1].item<double>() < 1e-9);
  CHECK(m.release_mass[0][2].item<double>() > 1 - 1e-9);
  CHECK(m.release_kl[0].item<double>() < 1e-6);
  // A far-from-uniform retrieval has a large KL: the same model at s_tag = 1.
  auto weak = averaging_forward(AveragingParams2d::theorem41(1.0, 1.0, 1.0, at::Device(at::kCPU)), batch);
  auto mw = measure_mechanism(ToyTrace{{weak.A1.unsqueeze(1), weak.A2.unsqueeze(1)}, {weak.H}, weak.f}, batch, 1);
  CHECK(mw.release_kl[0].item<double>() > 0.1);
  CHECK(mw.catch_mass[0][0].item<double>() < 0.5);
}

TEST_CASE("spectrum measures: singular values, effective rank and energy", "[analysis]") {
  auto s = measure_spectrum(at::diag(at::tensor({3.0, 1.0, 0.0}, at::kDouble)));
  CHECK(s.singular_values[0].item<double>() == Approx(3.0));
  CHECK(s.energy_top1 == Approx(0.9));
  CHECK(s.energy_top2 == Approx(1.0));
  CHECK(s.effective_rank == Approx(std::exp(-(0.75 * std::log(0.75) + 0.25 * std::log(0.25)))));
  auto rank1 = measure_spectrum(at::outer(at::tensor({1.0, 2.0}, at::kDouble), at::tensor({3.0, -1.0}, at::kDouble)));
  CHECK(rank1.effective_rank == Approx(1.0).margin(1e-9));
  CHECK(rank1.energy_top1 == Approx(1.0));
}
