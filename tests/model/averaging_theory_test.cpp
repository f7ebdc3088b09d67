// The Section 4 model against a forward pass computed by hand with scalar arithmetic.
#include <ATen/ATen.h>

#include "tests/support/catch.h"
#include <cmath>

#include "framework/model/averaging_theory.h"

using namespace sinklab;

namespace {
std::vector<double> softmax(std::vector<double> s) {
  double m = *std::max_element(s.begin(), s.end()), z = 0;
  for (double& v : s) z += (v = std::exp(v - m));
  for (double& v : s) v /= z;
  return s;
}
}  // namespace

TEST_CASE("averaging model matches a hand-computed forward pass", "[model]") {
  const double a = 0.3, c = -1.1, s = 2.0, b = 0.7, d = 1.3;
  // Sequence (x1, [SEP], x3): E = [[a, -1], [0, -s], [c, -1]].
  const double E[3][2] = {{a, -1}, {0, -s}, {c, -1}};
  const double V[3] = {1, s, 1};  // second coordinate of E W_V1 (the first is 0)
  double A1[3][3] = {};
  double H[3][2];
  for (int i = 0; i < 3; ++i) {
    std::vector<double> scores;
    for (int j = 0; j <= i; ++j) scores.push_back(E[i][0] * E[j][0] + E[i][1] * E[j][1]);
    auto p = softmax(scores);
    double tag = 0;
    for (int j = 0; j <= i; ++j) A1[i][j] = p[j], tag += p[j] * V[j];
    H[i][0] = E[i][0];
    H[i][1] = E[i][1] + tag;
  }
  std::vector<double> s2;
  for (int j = 0; j < 3; ++j) s2.push_back(H[2][0] * b * H[j][1] + H[2][1] * d * H[j][1]);
  auto A2 = softmax(s2);
  double f = 0;
  for (int j = 0; j < 3; ++j) f += A2[j] * H[j][0];

  auto opts = at::TensorOptions().dtype(at::kDouble);
  AveragingBatch batch{at::tensor({a, 0.0, c}, opts).view({1, 3}), at::tensor({int64_t(3)}), at::tensor({int64_t(1)})};
  auto p = AveragingParams2d::theorem41(b, d, s, at::Device(at::kCPU));
  auto fw = averaging_forward(p, batch);
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) CHECK(fw.A1[0][i][j].item<double>() == Approx(A1[i][j]).margin(1e-14));
    CHECK(fw.H[0][i][1].item<double>() == Approx(H[i][1]).margin(1e-14));
    CHECK(fw.A2_last[0][i].item<double>() == Approx(A2[i]).margin(1e-14));
  }
  CHECK(fw.f.item<double>() == Approx(f).margin(1e-14));
  CHECK(averaging_target(batch).item<double>() == Approx(c));
}

TEST_CASE("padding after a sequence changes nothing it computes", "[model]") {
  auto opts = at::TensorOptions().dtype(at::kDouble);
  at::manual_seed(0);
  auto x = at::randn({1, 6}, opts);
  AveragingBatch shortb{x, at::tensor({int64_t(6)}), at::tensor({int64_t(2)})};
  auto padded_x = at::cat({x, at::randn({1, 5}, opts) * 100}, 1);
  AveragingBatch longb{padded_x, at::tensor({int64_t(6)}), at::tensor({int64_t(2)})};
  auto p = AveragingParams2d::theorem41(1.0, 1.0, 5.0, at::Device(at::kCPU));
  auto a = averaging_forward(p, shortb), b = averaging_forward(p, longb);
  CHECK(a.f.item<double>() == Approx(b.f.item<double>()).margin(1e-14));
  CHECK(at::allclose(a.A1, b.A1.narrow(1, 0, 6).narrow(2, 0, 6)));
  CHECK(at::allclose(a.A2_last, b.A2_last.narrow(1, 0, 6)));
}

TEST_CASE("large s_tag does not overflow in float64", "[model]") {
  auto opts = at::TensorOptions().dtype(at::kDouble);
  AveragingBatch batch{at::tensor({0.5, 0.0, 2.0, -1.0}, opts).view({1, 4}), at::tensor({int64_t(4)}),
                       at::tensor({int64_t(1)})};
  auto fw = averaging_forward(AveragingParams2d::theorem41(1.0, 1.0, 200.0, at::Device(at::kCPU)), batch);
  CHECK(std::isfinite(fw.f.item<double>()));
  CHECK(fw.f.item<double>() == Approx(0.5).margin(1e-9));  // mean of (2, -1)
}
