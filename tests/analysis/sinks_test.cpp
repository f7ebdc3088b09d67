// Sink scores, massive activations, outlier dimensions and per-head spectra against
// hand-computed values and brute force.
#include <ATen/ATen.h>

#include "tests/support/catch.h"
#include <cmath>

#include "framework/analysis/sinks.h"
#include "framework/model/language_model.h"
#include "framework/util/error.h"

using namespace sinklab;

TEST_CASE("sink scores average each key's column over the queries that see it", "[analysis][sinks]") {
  // One head, four tokens; rows are queries.
  auto A = at::tensor({1.0, 0.0, 0.0, 0.0,    //
                       0.5, 0.5, 0.0, 0.0,    //
                       0.6, 0.2, 0.2, 0.0,    //
                       0.7, 0.1, 0.1, 0.1}, at::kDouble).view({1, 4, 4});
  auto alpha = sink_scores(A);
  CHECK(alpha[0][0].item<double>() == Approx((1.0 + 0.5 + 0.6 + 0.7) / 4));
  CHECK(alpha[0][1].item<double>() == Approx((0.5 + 0.2 + 0.1) / 3));
  CHECK(alpha[0][2].item<double>() == Approx((0.2 + 0.1) / 2));
  CHECK(alpha[0][3].item<double>() == Approx(0.1));
  // Keys seen by fewer than 2 queries are not scored.
  auto limited = sink_scores(A, 2);
  CHECK(std::isnan(limited[0][3].item<double>()));
  CHECK(limited[0][2].item<double>() == Approx(0.15));
  // Entries above the diagonal (a non-causal pattern) are ignored.
  auto noisy = A.clone();
  noisy[0][0][3] = 0.9;
  CHECK(sink_scores(noisy)[0][3].item<double>() == Approx(0.1));
  CHECK_THROWS_AS(sink_scores(at::rand({2, 3, 4})), InputError);
}

TEST_CASE("massive activations follow Sun et al.'s two thresholds", "[analysis][sinks]") {
  auto x = at::full({3, 6}, 0.1, at::kDouble);
  x[0][4] = 500.0;   // > 100 and 5000x the median: massive
  x[1][2] = -150.0;  // > 100 in magnitude and 1500x: massive, negative
  x[2][1] = 99.0;    // below 100
  auto m = massive_activations(x);
  REQUIRE(m.size(0) == 2);
  CHECK(m[0][0].item<double>() == 0);  // largest first: position 0, dim 4
  CHECK(m[0][1].item<double>() == 4);
  CHECK(m[0][2].item<double>() == 500.0);
  CHECK(m[1][0].item<double>() == 1);
  CHECK(m[1][2].item<double>() == -150.0);
  // Raising the ratio above 1500x leaves the 5000x entry only.
  CHECK(massive_activations(x, 100, 2000).size(0) == 1);
  CHECK(massive_activations(at::zeros({2, 3})).size(0) == 0);
}

TEST_CASE("outlier dimension scores find a dimension that is large on most tokens", "[analysis][sinks]") {
  auto x = at::ones({5, 8}, at::kDouble);
  x.select(1, 3).fill_(12.0);  // consistently 12x
  x[0][6] = 50.0;               // one token only: not consistent
  auto s = outlier_dimension_scores(x);
  CHECK(s[3].item<double>() == Approx(12.0));
  CHECK(s[6].item<double>() == Approx(1.0));
  CHECK(s[0].item<double>() == Approx(1.0));
}

TEST_CASE("effective rank of flat and single-spike spectra", "[analysis][sinks]") {
  CHECK(effective_rank(at::ones({7}, at::kDouble)).item<double>() == Approx(7.0));
  CHECK(effective_rank(at::tensor({3.0, 0.0, 0.0}, at::kDouble)).item<double>() == Approx(1.0));
  CHECK(effective_rank(at::zeros({4}, at::kDouble)).item<double>() == 0.0);
}

TEST_CASE("per-head spectra equal the singular values of the explicit D x D forms", "[analysis][sinks]") {
  const std::int64_t H = 4, KV = 2, hd = 3, D = 10;
  AttentionWeights w{at::randn({H * hd, D}), at::randn({KV * hd, D}), at::randn({KV * hd, D}), at::randn({D, H * hd})};
  auto s = attention_head_spectra(w, H, KV, hd);
  REQUIRE(s.qk_singular_values.sizes() == at::IntArrayRef({H, hd}));
  REQUIRE(s.v_singular_values.sizes() == at::IntArrayRef({KV, hd}));
  for (std::int64_t h = 0; h < H; ++h) {
    const std::int64_t g = h / (H / KV);  // grouped-query: heads 0,1 -> kv 0; 2,3 -> kv 1
    auto wq = w.q.narrow(0, h * hd, hd).to(at::kDouble), wk = w.k.narrow(0, g * hd, hd).to(at::kDouble);
    auto explicit_form = at::matmul(wq.t(), wk);  // [D, D], the bilinear form of the scores
    auto want = at::linalg_svdvals(explicit_form).narrow(0, 0, hd);
    CHECK(at::allclose(s.qk_singular_values[h].to(at::kDouble), want, 1e-4, 1e-4));
  }
  for (std::int64_t g = 0; g < KV; ++g) {
    auto want = at::linalg_svdvals(w.v.narrow(0, g * hd, hd).to(at::kDouble));
    CHECK(at::allclose(s.v_singular_values[g].to(at::kDouble), want, 1e-4, 1e-4));
  }
  // A rank-1 W_Q W_K^T (the low-rank structure the paper ties to sinks) shows one singular value.
  auto u = at::randn({hd, 1}), a = at::randn({1, D}), b = at::randn({1, D});
  AttentionWeights low{at::matmul(u, a).repeat({H, 1}), at::matmul(u, b).repeat({KV, 1}), w.v, w.o};
  auto sl = attention_head_spectra(low, H, KV, hd);
  CHECK(sl.qk_singular_values.select(1, 1).abs().max().item<double>() < 1e-3 * sl.qk_singular_values.max().item<double>());
  CHECK(effective_rank(sl.qk_singular_values[0]).item<double>() == Approx(1.0).margin(1e-3));
}
