// PCA and the RGB colouring: a case with a covariance known by construction, the sign rule,
// and the [0, 255] normalisation.
#include <ATen/ATen.h>

#include "tests/support/catch.h"
#include <cmath>

#include "framework/analysis/pca.h"
#include "framework/util/error.h"

using namespace sinklab;

namespace {

// The 8 corners of a box with half-sides 3, 2, 1, rotated by R: the covariance is
// R diag(9, 4, 1) R^T * 8/7 exactly, so the components are R's columns with variances
// 72/7, 32/7, 8/7.
at::Tensor rotation() {
  const double c = std::cos(0.5), s = std::sin(0.5);
  // A rotation by 0.5 rad in the (0, 1) plane, then a swap of axes 1 and 2.
  auto r = at::tensor({c, -s, 0.0, s, c, 0.0, 0.0, 0.0, 1.0}, at::kDouble).view({3, 3});
  auto swap = at::tensor({1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0}, at::kDouble).view({3, 3});
  return at::matmul(swap, r);
}

at::Tensor box_points() {
  std::vector<double> v;
  for (double a : {-3.0, 3.0})
    for (double b : {-2.0, 2.0})
      for (double c : {-1.0, 1.0}) v.insert(v.end(), {a, b, c});
  return at::matmul(at::tensor(v, at::kDouble).view({8, 3}), rotation().t()) + 5.0;  // rows: R p + offset
}

}  // namespace

TEST_CASE("PCA recovers the principal axes and variances of a known covariance", "[analysis][pca]") {
  auto fit = fit_pca(box_points(), 3);
  auto want_var = at::tensor({72.0 / 7, 32.0 / 7, 8.0 / 7}, at::kDouble);
  CHECK(at::allclose(fit.explained_variance, want_var, 1e-12, 1e-12));
  CHECK(at::allclose(fit.explained_ratio, want_var / (112.0 / 7), 1e-12, 1e-12));
  CHECK(at::allclose(fit.mean, at::full({3}, 5.0, at::kDouble), 1e-12, 1e-12));
  auto R = rotation();
  for (int i = 0; i < 3; ++i) {
    auto axis = R.select(1, i);  // the i-th principal axis, up to sign
    double dot = at::dot(fit.components[i], axis).item<double>();
    CHECK(std::abs(dot) == Approx(1.0).margin(1e-12));
    // The sign rule: the largest-magnitude loading is positive.
    auto comp = fit.components[i];
    CHECK(comp[comp.abs().argmax().item<std::int64_t>()].item<double>() > 0);
  }
  // Projections: centred coordinates along the axes; the first is +-3 for every corner.
  auto proj = pca_project(fit, box_points());
  CHECK(at::allclose(proj.select(1, 0).abs(), at::full({8}, 3.0, at::kDouble), 1e-12, 1e-12));
}

TEST_CASE("PCA signs do not depend on the data's sign, row order or dtype", "[analysis][pca]") {
  auto x = at::randn({50, 16}, at::TensorOptions().dtype(at::kDouble));
  auto a = fit_pca(x, 3);
  auto negated = fit_pca(-x, 3);
  auto shuffled = fit_pca(x.index_select(0, at::randperm(50, at::TensorOptions().dtype(at::kLong))), 3);
  auto as_float = fit_pca(x.to(at::kFloat), 3);
  CHECK(at::allclose(a.components, negated.components, 1e-10, 1e-10));
  CHECK(at::allclose(a.components, shuffled.components, 1e-10, 1e-10));
  CHECK(at::allclose(a.components, as_float.components, 1e-5, 1e-5));
  // The same basis for -x means the projections flip sign.
  CHECK(at::allclose(pca_project(negated, -x), -pca_project(a, x), 1e-10, 1e-10));
}

TEST_CASE("RGB colouring spans 0..255 on the fitted tokens and clamps others", "[analysis][pca]") {
  auto x = at::randn({40, 8}, at::TensorOptions().dtype(at::kDouble));
  auto fit = fit_pca(x, 3);
  auto proj = pca_project(fit, x);
  auto range = pca_range({proj});
  auto rgb = pca_rgb(proj, range);
  REQUIRE(rgb.scalar_type() == at::kByte);
  REQUIRE(rgb.sizes() == at::IntArrayRef({40, 3}));
  for (int c = 0; c < 3; ++c) {
    CHECK(rgb.select(1, c).min().item<int>() == 0);
    CHECK(rgb.select(1, c).max().item<int>() == 255);
  }
  // The token with the smallest first coordinate is pure 0 in red, the largest 255.
  CHECK(rgb[proj.select(1, 0).argmin().item<std::int64_t>()][0].item<int>() == 0);
  // A far-away token clamps instead of wrapping around.
  auto far = pca_rgb(pca_project(fit, x.narrow(0, 0, 1) * 100), range);
  for (int c = 0; c < 3; ++c) {
    int v = far[0][c].item<int>();
    CHECK((v == 0 || v == 255));
  }
  // Two components: red and green only.
  auto fit2 = fit_pca(x, 2);
  auto p2 = pca_project(fit2, x);
  auto rgb2 = pca_rgb(p2, pca_range({p2}));
  CHECK(rgb2.select(1, 2).max().item<int>() == 0);
  CHECK(rgb2.select(1, 1).max().item<int>() == 255);
  // Midpoint of the range maps to the middle of 0..255.
  auto mid = (range[0] + range[1]).unsqueeze(0) / 2;
  CHECK(pca_rgb(mid, range)[0][0].item<int>() == Approx(127.5).margin(0.5));
}

TEST_CASE("PCA rejects impossible requests with input errors", "[analysis][pca]") {
  auto x = at::randn({3, 5});
  CHECK_THROWS_AS(fit_pca(x, 3), InputError);         // at most N - 1 = 2 components
  CHECK_THROWS_AS(fit_pca(x.narrow(0, 0, 1), 1), InputError);
  CHECK_THROWS_AS(fit_pca(x.view({-1}), 1), InputError);
  auto fit = fit_pca(x, 2);
  CHECK_THROWS_AS(pca_project(fit, at::randn({2, 4})), InputError);
}
