// The trainable toys: checkpoints, strict loading, and identities between their weights and
// the attention they compute.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "tests/support/catch.h"
#include <cmath>

#include "framework/io/safetensors.h"
#include "framework/model/averaging_task.h"
#include "framework/model/toy_averaging.h"
#include "framework/util/error.h"
#include "tests/support/temp_dir.h"

using namespace sinklab;
using Catch::Contains;

namespace {
AveragingBatch small_batch(std::uint64_t seed = 3) {
  AveragingTask task;
  task.min_length = 5;
  task.max_length = 12;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return sample_averaging_batch(task, 16, gen);
}
ToyModelSpec wide_spec(bool mlp = true, bool norm = true) {
  ToyModelSpec s;
  s.d_model = 16;
  s.heads = 4;
  s.layers = 2;
  s.mlp = mlp;
  s.norm = norm;
  return s;
}
}  // namespace

TEST_CASE("a checkpoint saved and loaded gives the same forward pass", "[model][toy]") {
  test::TempDir dir;
  auto batch = small_batch();
  ToyModelSpec two_d;
  two_d.kind = "toy-averaging-2d";
  for (const auto& spec : {two_d, wide_spec()}) {
    INFO(spec.kind);
    auto model = ToyModel::initialize(spec, 7);
    model.save(dir / "m.safetensors", {{"step", "0"}});
    SafetensorsFile file(dir / "m.safetensors");
    CHECK(file.metadata().at("kind") == spec.kind);
    auto loaded = ToyModel::load(spec, file);
    CHECK(at::allclose(model.forward(batch).output, loaded.forward(batch).output));
  }
}

TEST_CASE("loading a checkpoint of the wrong architecture names the problem", "[model][toy][bad-input]") {
  test::TempDir dir;
  ToyModel::initialize(wide_spec(false, false), 1).save(dir / "plain.safetensors");
  CHECK_THROWS_WITH(ToyModel::load(wide_spec(true, false), SafetensorsFile(dir / "plain.safetensors")),
                    Contains("missing tensor 'layers.0.mlp.up_proj.weight'"));
  CHECK_THROWS_WITH(ToyModel::load(wide_spec(false, true), SafetensorsFile(dir / "plain.safetensors")),
                    Contains("missing tensor 'layers.0.attn_norm.weight'"));
  ToyModel::initialize(wide_spec(true, false), 1).save(dir / "mlp.safetensors");
  CHECK_THROWS_WITH(ToyModel::load(wide_spec(false, false), SafetensorsFile(dir / "mlp.safetensors")),
                    Contains("unexpected tensor"));
  auto wider = wide_spec(false, false);
  wider.d_model = 32;
  CHECK_THROWS_WITH(ToyModel::load(wider, SafetensorsFile(dir / "plain.safetensors")), Contains("has shape [16]"));
}

TEST_CASE("the wide toy's layer-1 attention is softmax of the embeddings through W_Q W_K^T", "[model][toy]") {
  // Without norms, layer-1 scores are e_i^T (Wq_h^T Wk_h) e_j / sqrt(d_head): qk_matrices() must
  // be exactly the bilinear form the forward pass uses.
  auto spec = wide_spec(false, false);
  auto model = ToyModel::initialize(spec, 11);
  auto batch = small_batch();
  auto trace = model.forward(batch);
  auto qk = model.qk_matrices();
  REQUIRE(qk.size() == 8);
  const auto& p = model.named_parameters();
  auto get = [&](const std::string& n) {
    for (const auto& [name, t] : p)
      if (name == n) return t;
    return at::Tensor();
  };
  auto x = batch.x.to(at::kFloat);
  auto pos = at::arange(x.size(1)).unsqueeze(0);
  auto E = at::where(pos.eq(batch.sep.unsqueeze(1)).unsqueeze(-1), get("embed.sep"),
                     x.unsqueeze(-1) * get("embed.number_direction") + get("embed.number_bias"));
  const int64_t T = x.size(1);
  auto mask = at::ones({T, T}, at::kBool).tril().logical_not();
  for (int h = 0; h < 4; ++h) {
    auto scores = at::matmul(at::matmul(E, qk[h].matrix), E.transpose(1, 2)) / 2.0;  // sqrt(16 / 4)
    auto A = at::softmax(scores.masked_fill(mask, -INFINITY), -1);
    CHECK(at::allclose(A, trace.attention[0].select(1, h), 1e-4, 1e-5));
    CHECK(at::linalg_matrix_rank(qk[h].matrix).item<int64_t>() <= 4);  // rank <= d_head
  }
}

TEST_CASE("toy models are causal, padding-invariant and differentiable", "[model][toy]") {
  auto model = ToyModel::initialize(wide_spec(), 5);
  auto batch = small_batch();
  auto padded = batch;
  padded.x = at::cat({batch.x, at::randn({16, 6}, at::kDouble) * 50}, 1);
  auto a = model.forward(batch), b = model.forward(padded);
  CHECK(at::allclose(a.output, b.output, 1e-5, 1e-5));
  for (const auto& A : a.attention) CHECK(at::equal(A.triu(1), at::zeros_like(A)));
  a.output.pow(2).mean().backward();
  for (const auto& t : model.parameters()) CHECK(t.grad().defined());
}
