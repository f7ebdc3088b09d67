// The four pruning methods against independent checks: hand-made masks, the closed-form OBS
// update, reconstruction error orderings, OATS's budget and monotone objective, N:M counts.
#include <ATen/ATen.h>

#include "tests/support/catch.h"

#include "framework/prune/hessian_factor.h"
#include "framework/prune/masks.h"
#include "framework/prune/methods.h"
#include "framework/prune/truncated_svd.h"
#include "framework/util/error.h"

using namespace sinklab;

namespace {

PruneConfig config(const std::string& method, double sparsity, const std::string& pattern = "unstructured") {
  PruneConfig c;
  c.method = method;
  c.sparsity = sparsity;
  c.pattern = pattern;
  return c;
}

LinearStats stats_of(const at::Tensor& x, bool gram = true) {
  LinearStats s(x.size(-1), gram);
  s.add(x);
  return s;
}

// Calibration inputs with very different feature scales (as outlier features make them).
at::Tensor skewed_inputs(std::int64_t n, std::int64_t in, std::uint64_t seed) {
  at::manual_seed(seed);
  auto scale = at::exp(at::randn({in}) * 1.2);
  return at::randn({n, in}) * scale + 0.3 * at::randn({n, 1});  // correlated features too
}

double output_error(const at::Tensor& w, const at::Tensor& pruned, const at::Tensor& x) {
  return (at::matmul(x, w.t()) - at::matmul(x, pruned.t())).norm().item<double>();
}

}  // namespace

TEST_CASE("wanda keeps, per row, the largest |W| * ||X||", "[prune][wanda]") {
  // 2 rows, 4 inputs; column norms ||X_j|| = 1, 10, 2, 0.5 from a hand-made X.
  auto x = at::tensor({1.0f, 10.0f, 2.0f, 0.5f}).view({1, 4});
  auto w = at::tensor({4.0f, 0.3f, -1.0f, 9.0f,  //
                       -0.1f, 0.2f, 3.0f, 1.0f}).view({2, 4});
  // scores row 0: 4, 3, 2, 4.5 -> keep columns 3 and 0; row 1: 0.1, 2, 6, 0.5 -> keep 2 and 1.
  auto r = prune_wanda(w, stats_of(x), config("wanda", 0.5));
  auto want = at::tensor({1, 0, 0, 1, 0, 1, 1, 0}).to(at::kBool).view({2, 4});
  CHECK(at::equal(r.keep, want));
  CHECK(at::equal(r.weight, w * want));
  CHECK(r.parameters == 4);
}

TEST_CASE("magnitude uses one threshold for the whole matrix", "[prune][magnitude]") {
  auto w = at::tensor({1.0f, 2.0f, 3.0f, 4.0f,  //
                       0.1f, 0.2f, 0.3f, 5.0f}).view({2, 4});
  auto r = prune_magnitude(w, LinearStats(), config("magnitude", 0.5));
  // The 4 smallest |w| of the matrix go: row 1 loses three, row 0 one (unlike per-row methods).
  auto want = at::tensor({0, 1, 1, 1, 0, 0, 0, 1}).to(at::kBool).view({2, 4});
  CHECK(at::equal(r.keep, want));
  CHECK(r.keep.sum().item<int>() == 4);
}

TEST_CASE("N:M masks keep exactly N in every group, for every method", "[prune][nm]") {
  auto x = skewed_inputs(256, 32, 1);
  auto w = at::randn({12, 32});
  for (const char* pattern : {"2:4", "4:8", "1:4"}) {
    auto p = SparsityPattern::parse(pattern);
    for (const char* method : {"magnitude", "wanda", "sparsegpt", "oats"}) {
      auto cfg = config(method, 1.0 - double(p.n) / p.m, pattern);
      cfg.block_size = 16;
      cfg.iterations = 5;
      auto r = prune_method(method).run(w, stats_of(x), cfg);
      INFO(method << " " << pattern);
      auto groups = r.keep.view({12, 32 / p.m, p.m}).sum(2);
      CHECK(groups.eq(p.n).all().item<bool>());
      if (std::string(method) != "oats") CHECK(at::equal(r.weight.ne(0), r.keep & w.ne(0)));
    }
  }
  CHECK_THROWS_AS(SparsityPattern::parse("4:2"), InputError);
  CHECK_THROWS_AS(keep_n_of_m(at::randn({2, 6}), SparsityPattern::parse("2:4")), InputError);
}

TEST_CASE("sparsegpt reconstructs the layer's output better than wanda and magnitude", "[prune][sparsegpt]") {
  auto x = skewed_inputs(512, 64, 2);
  auto w = at::randn({48, 64});
  auto s = stats_of(x);
  auto cfg = config("sparsegpt", 0.5);
  cfg.block_size = 16;
  cfg.damp = 0.01;
  auto sg = prune_sparsegpt(w, s, cfg), wa = prune_wanda(w, s, cfg), mg = prune_magnitude(w, s, cfg);
  const double e_sg = output_error(w, sg.weight, x), e_wa = output_error(w, wa.weight, x), e_mg = output_error(w, mg.weight, x);
  INFO("||WX - W'X||: sparsegpt " << e_sg << ", wanda " << e_wa << ", magnitude " << e_mg);
  CHECK(e_sg < e_wa);
  CHECK(e_wa < e_mg);
  // Exactly half of each block of 16 columns is gone (adaptive selection per block).
  CHECK(sg.keep.sum().item<std::int64_t>() == 48 * 64 / 2);
  for (int b = 0; b < 4; ++b) CHECK(sg.keep.narrow(1, 16 * b, 16).sum().item<std::int64_t>() == 48 * 8);
  CHECK(at::equal(sg.weight.eq(0) | sg.keep, at::ones_like(sg.keep)));
}

TEST_CASE("sparsegpt pruning one weight is the closed-form OBS update", "[prune][sparsegpt]") {
  // One row; the first weight is by far the least important (tiny), so the mask prunes it alone.
  const std::int64_t in = 6;
  auto x = skewed_inputs(200, in, 3).to(at::kDouble);
  auto w = at::tensor({0.001, 1.0, -2.0, 0.5, 1.5, -1.0}, at::kDouble).view({1, in});
  auto s = stats_of(x);
  auto cfg = config("sparsegpt", 1.0 / in);
  cfg.block_size = 128;
  cfg.damp = 0.01;
  auto r = prune_sparsegpt(w.to(at::kFloat), s, cfg);
  REQUIRE(r.keep.sum().item<int>() == in - 1);
  REQUIRE_FALSE(r.keep[0][0].item<bool>());
  // OBS (Hassibi & Stork): delta = -w_q / [H^-1]_qq * H^-1[:, q] with the same dampened H.
  auto H = s.hessian();
  H.diagonal().add_(0.01 * H.diagonal().mean().item<double>());
  auto Hinv = at::inverse(H);
  auto want = w[0] - w[0][0] / Hinv[0][0] * Hinv.select(1, 0);
  CHECK(want[0].item<double>() == Approx(0.0).margin(1e-12));
  CHECK(at::allclose(r.weight[0].to(at::kDouble), want, 1e-4, 1e-5));
}

TEST_CASE("the inverse Hessian factor equals the reference's Cholesky, inverse, Cholesky", "[prune][sparsegpt]") {
  // Sizes below and above the recursion's base block (256), an odd split, and outlier features.
  for (std::int64_t n : {7, 300, 777}) {
    auto x = skewed_inputs(2 * n, n, 11).to(at::kDouble);
    auto H = stats_of(x).hessian();
    H.diagonal().add_(0.01 * H.diagonal().mean().item<double>());
    auto reference = at::linalg_cholesky(at::cholesky_inverse(at::linalg_cholesky(H)), /*upper=*/true);
    auto U = inverse_hessian_factor(H.clone(), at::kDouble);
    INFO("n = " << n);
    CHECK(at::equal(U, U.triu()));
    CHECK((U - reference).abs().max().item<double>() <= 1e-10 * reference.abs().max().item<double>());
    CHECK(at::allclose(at::matmul(U.t(), U), at::inverse(H), 1e-8, 1e-12));
  }
  auto not_definite = at::eye(3, at::kDouble);
  not_definite[2][2] = -1.0;
  CHECK_THROWS_AS(inverse_hessian_factor(not_definite, at::kDouble), InputError);
}

TEST_CASE("take_hessian reuses X^T X's memory only when nothing else shares it", "[prune][sparsegpt]") {
  auto x = skewed_inputs(50, 8, 12);
  auto s = stats_of(x);
  const auto want = s.hessian();
  LinearStats shared = s;  // shares the tensors, as a map's second user gets them
  auto from_shared = shared.take_hessian();
  CHECK(at::equal(from_shared, want));
  CHECK(at::equal(s.hessian(), want));  // the original is untouched
  LinearStats alone = stats_of(x);  // the gram's only holder: scaled in place
  CHECK(at::equal(alone.take_hessian(), want));
  CHECK_THROWS(alone.hessian());  // the statistics gave their X^T X away
}

TEST_CASE("oats: rank formula, exact budget, monotone objective, S + L", "[prune][oats]") {
  auto x = skewed_inputs(300, 40, 4);
  auto w = at::randn({24, 40});
  auto cfg = config("oats", 0.5);
  cfg.rank_ratio = 0.25;
  cfg.iterations = 30;
  auto r = prune_oats(w, stats_of(x, false), cfg);
  // floor(0.25 * 0.5 * 24 * 40 / 64) = floor(1.875) = 1; rows keep 40 - floor(40 * 0.625) = 15.
  CHECK(oats_rank(24, 40, cfg) == 1);
  CHECK(r.lowrank_u.sizes() == at::IntArrayRef({24, 1}));
  CHECK(r.lowrank_v.sizes() == at::IntArrayRef({1, 40}));
  CHECK(r.keep.sum(1).eq(15).all().item<bool>());
  CHECK(r.parameters == 24 * 15 + 1 * (24 + 40));
  CHECK(r.parameters <= std::int64_t(0.5 * 24 * 40));
  for (std::size_t i = 1; i < r.objective.size(); ++i) CHECK(r.objective[i] <= r.objective[i - 1] + 1e-6);
  CHECK(r.objective.back() < r.objective.front());
  // The stored weight is exactly the sparse part plus the factors' product.
  auto sparse = r.weight - at::matmul(r.lowrank_u, r.lowrank_v);
  CHECK(sparse.masked_select(r.keep.logical_not()).abs().max().item<double>() < 1e-4);
  // A matrix that is sparse + rank-1 is recovered almost exactly.
  auto structured = at::outer(at::randn({24}), at::randn({40})) * 3 + at::randn({24, 40}) * (at::rand({24, 40}) < 0.2);
  auto exact = prune_oats(structured, stats_of(at::ones({4, 40}), false), cfg);
  CHECK(exact.objective.back() < 0.25 * exact.objective.front());
  // Bigger budget in rank: paper's Phi-3 numbers (5120 x 5120, rho 0.5, kappa 0.25) give rank 320.
  CHECK(oats_rank(5120, 5120, cfg) == 320);
  auto nm = config("oats", 0.5, "2:4");
  CHECK(oats_rank(5120, 5120, nm) == std::int64_t(0.25 * (0.5 / 0.75) * 5120 * 5120 / 10240));
}

TEST_CASE("the randomized truncated SVD is close to the exact one, and warm starts help", "[prune][svd]") {
  at::manual_seed(5);
  // A decaying spectrum, like a trained weight's.
  auto u = std::get<0>(at::linalg_qr(at::randn({200, 120}))), v = std::get<0>(at::linalg_qr(at::randn({150, 120})));
  auto s = at::exp(-at::arange(120, at::kFloat) / 15.0);
  auto a = at::matmul(u * s, v.t());
  const std::int64_t r = 20;
  auto exact = truncated_svd(a, r, {});
  auto approx = truncated_svd(a, r, {true, 10, 2, 0});
  const double e_exact = (a - exact.product()).norm().item<double>(), e_approx = (a - approx.product()).norm().item<double>();
  CHECK(e_approx <= e_exact * 1.05);
  CHECK(e_approx >= e_exact * (1 - 1e-4));
  auto warm = truncated_svd(a, r, {true, 10, 0, 1}, approx.basis);
  auto cold = truncated_svd(a, r, {true, 10, 0, 1});
  CHECK((a - warm.product()).norm().item<double>() <= (a - cold.product()).norm().item<double>());
  CHECK(truncated_svd(a, 0, {}).product().abs().max().item<double>() == 0);
}

// Masks choose by selection (kthvalue), not sorting; they must still prune exactly what a stable
// sort's first k indices would - ties towards the lower index - so masks stay independent of
// the sort implementation and identical to earlier runs.
TEST_CASE("masks prune what a stable sort chooses, ties towards the lower index", "[prune][masks]") {
  at::manual_seed(3);
  const auto scores = at::randint(0, 5, {7, 40}).to(at::kFloat);  // many ties
  for (double sparsity : {0.0, 0.1, 0.5, 0.77, 1.0}) {
    INFO(sparsity);
    const auto k = std::int64_t(sparsity * 40);
    auto by_sort = at::ones({7, 40}, at::kBool);
    if (k > 0) by_sort.scatter_(1, std::get<1>(scores.sort(true, -1, false)).narrow(1, 0, k), false);
    CHECK(at::equal(keep_per_row(scores, sparsity, {}), by_sort));
    const auto kk = std::int64_t(sparsity * 280);
    auto flat = at::ones({280}, at::kBool);
    if (kk > 0) flat.scatter_(0, std::get<1>(scores.reshape({-1}).sort(true, -1, false)).narrow(0, 0, kk), false);
    CHECK(at::equal(keep_per_matrix(scores, sparsity), flat.view({7, 40})));
    CHECK(keep_per_matrix(scores, sparsity).logical_not().sum().item<std::int64_t>() == kk);
  }
}
