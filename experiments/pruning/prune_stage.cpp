// prune.V: the pruned model, saved as a HuggingFace checkpoint, and its sparsity accounting.
#include <ATen/ATen.h>

#include <filesystem>

#include "experiments/checkpoint/cost_model.h"
#include "experiments/checkpoint/stage_names.h"
#include "experiments/pruning/part.h"
#include "experiments/pruning/stages.h"
#include "framework/io/atomic_file.h"
#include "framework/io/safetensors.h"
#include "framework/model/language_model.h"
#include "framework/prune/block_store.h"
#include "framework/prune/methods.h"
#include "framework/prune/prune_model.h"
#include "framework/prune/save_checkpoint.h"
#include "framework/util/error.h"
#include "framework/util/log.h"
#include "framework/util/memory.h"
#include "framework/util/progress.h"
#include "framework/util/system.h"

namespace fs = std::filesystem;

namespace sinklab::pruning {
namespace {

using checkpoint::ResolvedModel;
namespace stage_names = checkpoint::stage_names;

const auto f64 = at::TensorOptions().dtype(at::kDouble);
const auto i64 = at::TensorOptions().dtype(at::kLong);

class PruneStage : public Stage {
 public:
  PruneStage(ResolvedModel base, PruneConfig prune, bool calibrated, std::optional<CalibrationConfig> calibration)
      : base_(std::move(base)), prune_(std::move(prune)), calibrated_(calibrated), calibration_(std::move(calibration)) {}
  std::string name() const override { return stage_names::prune(base_.variant); }
  int version() const override { return 2; }  // 2: sharded output, blocks rounded to the file dtype
  nlohmann::ordered_json reads() const override {
    // The batch enters the key: Hessian sums in another order differ in the last bits.
    return {{"dtype", base_.dtype}, {"prune", encode_value(prune_)}, {"calibration_batch", batch()}};
  }
  std::vector<std::string> upstream() const override {
    return calibrated_ ? std::vector<std::string>{stage_names::calibrate} : std::vector<std::string>{};
  }
  std::vector<std::string> input_files() const override { return base_.files(); }

  void run(StageContext& ctx) const override {
    auto problem = base_.problem();
    SINKLAB_INPUT_CHECK(problem.empty(), "{}", problem);
    auto model = load_language_model(base_.dir, base_.scalar_type(), ctx.device(), base_.offload);  // its own copy: pruned in place
    at::Tensor ids = calibrated_ ? ctx.input(stage_names::calibrate).read("ids") : at::zeros({0, 1}, i64);
    Progress progress(name(), model->spec().num_layers);
    // Each finished block is kept in the entry's resume directory: a killed run continues there.
    PrunedBlockStore finished(ctx.resume_dir());
    // Over the memory budget, the calibration stream goes to a scratch file (same values).
    const std::string spill = calibration_ ? calibration_->spill : "never";
    const bool spills = spill == "always" || (spill == "auto" && cost()->spills(double(anonymous_rss_bytes()), ctx.memory_budget()));
    if (spills && calibrated_) log::info("{}: the calibration stream is kept in a scratch file in {}", name(), ctx.scratch_dir());
    PruneReport report = prune_model(*model, ids, prune_, batch(), [&](std::int64_t) {
      release_free_heap();  // a block's solver work is freed: the next block starts from what is live
      progress.advance();
    }, &finished,
                                     spills ? ctx.scratch_dir() : "");
    progress.finish();
    if (report.restored_blocks > 0)
      log::info("{}: resumed: blocks 0..{} were finished by an earlier run ({})", name(), report.restored_blocks - 1,
                finished.dir());

    const std::string dir = ctx.artifact_dir();
    // The blocks' files are the checkpoint's shards: it is never held or written whole.
    save_sharded_checkpoint(*model, finished, base_.dir, dir, {{"sinklab_pruning", kPruningReport}});
    // Accounting, per matrix and overall; OATS factors beside the checkpoint.
    nlohmann::ordered_json matrices = nlohmann::ordered_json::array();
    std::vector<std::pair<std::string, at::Tensor>> lowrank;  // views of the blocks' factor files
    std::vector<std::unique_ptr<SafetensorsFile>> factor_files;
    for (std::int64_t l = 0; l < model->spec().num_layers; ++l) {
      if (finished.lowrank(l).empty()) continue;
      factor_files.push_back(std::make_unique<SafetensorsFile>(finished.lowrank(l)));
      for (const auto& n : factor_files.back()->names()) lowrank.emplace_back(n, factor_files.back()->tensor(n));
    }
    std::int64_t total = 0, kept = 0, zeros = 0;
    std::vector<double> layer, rows, cols, nz, params, rank, seconds, error;
    for (const auto& m : report.matrices) {
      const std::int64_t n = m.rows * m.cols;
      total += n;
      kept += m.parameters;
      zeros += m.zeros;
      matrices.push_back({{"name", m.name}, {"kind", m.kind}, {"layer", m.layer}, {"shape", {m.rows, m.cols}},
                          {"zeros", m.zeros}, {"sparsity", double(m.zeros) / double(n)},
                          {"parameters", m.parameters}, {"parameter_fraction", double(m.parameters) / double(n)},
                          {"rank", m.rank}, {"relative_error", m.relative_error}, {"seconds", m.seconds}});
      layer.push_back(double(m.layer)), rows.push_back(double(m.rows)), cols.push_back(double(m.cols));
      nz.push_back(double(m.zeros)), params.push_back(double(m.parameters)), rank.push_back(double(m.rank));
      seconds.push_back(m.seconds), error.push_back(m.relative_error);
    }
    if (!lowrank.empty())
      write_safetensors((fs::path(dir) / kLowRankFile).string(), lowrank,
                        {{"meaning", "OATS: weight = S + lowrank_u @ lowrank_v; sparse_mask is S's pattern"}});
    nlohmann::ordered_json doc{
        {"method", prune_.method},
        {"config", encode_value(prune_)},
        {"source_checkpoint", fs::absolute(base_.dir).string()},
        {"calibration", calibration_ && calibrated_ ? encode_value(*calibration_) : nlohmann::ordered_json()},
        {"calibration_tokens", report.calibration_tokens},
        {"pruned_matrices", matrices.size()},
        {"sparsity", double(zeros) / double(std::max<std::int64_t>(total, 1))},
        {"parameter_fraction", double(kept) / double(std::max<std::int64_t>(total, 1))},
        {"block_seconds", report.block_seconds},
        {"block_peak_anonymous_mib", [&] {
           std::vector<double> mib;
           for (double b : report.block_peak_bytes) mib.push_back(b / (1024.0 * 1024.0));
           return mib;
         }()},
        {"resumed_blocks", report.restored_blocks},
        {"matrices", matrices}};
    write_file_atomic((fs::path(dir) / kPruningReport).string(), doc.dump(2) + "\n");

    auto& out = ctx.output();
    auto meaning = [](const std::string& s) { return Attrs{{"meaning", s}}; };
    std::vector<std::string> names;
    for (const auto& m : report.matrices) names.push_back(m.name);
    out.write_strings("matrices/name", names, meaning("pruned linear maps, [M]"));
    out.write("matrices/layer", at::tensor(layer, f64), meaning("0-based block, [M]"));
    out.write("matrices/shape", at::stack({at::tensor(rows, f64), at::tensor(cols, f64)}, 1), meaning("[out, in], [M, 2]"));
    out.write("matrices/zeros", at::tensor(nz, f64), meaning("exact zeros of the stored weight, [M]"));
    out.write("matrices/parameters", at::tensor(params, f64), meaning("kept parameters (incl. low-rank factors), [M]"));
    out.write("matrices/rank", at::tensor(rank, f64), meaning("OATS rank, [M]"));
    out.write("matrices/seconds", at::tensor(seconds, f64), meaning("pruning time, [M]"));
    out.write("matrices/relative_error", at::tensor(error, f64), meaning("||W - W'||_F / ||W||_F, [M]"));
    out.write("block_seconds", at::tensor(report.block_seconds, f64), meaning("calibration + pruning per block, [L]"));
    if (!report.matrices.empty() && !report.matrices.front().objective.empty()) {
      std::vector<at::Tensor> obj;
      for (const auto& m : report.matrices) obj.push_back(at::tensor(m.objective, f64));
      out.write("matrices/oats_objective", at::stack(obj),
                meaning("||W D - S - L||_F / ||W D||_F after each round, [M, iterations]"));
    }
    out.set_attr("/", "sparsity", double(zeros) / double(std::max<std::int64_t>(total, 1)));
    out.set_attr("/", "parameter_fraction", double(kept) / double(std::max<std::int64_t>(total, 1)));
    log::info("{}: {} matrices, sparsity {:.4f}, kept parameters {:.4f}", name(), report.matrices.size(),
              double(zeros) / double(std::max<std::int64_t>(total, 1)), double(kept) / double(std::max<std::int64_t>(total, 1)));
  }

  // The source model mapped (its dtype) or copied, the block being edited, the calibration
  // stream (and the dense outputs for one-shot), one batch through one block, the statistics
  // and the largest map's solver work.
  std::optional<StageCost> cost() const override {
    const auto& shape = checkpoint::checkpoint_shape(base_.dir);
    const ModelSpec& s = shape.spec;
    const at::ScalarType dt = base_.scalar_type();
    const double e = checkpoint::dtype_bytes(dt), D = double(s.hidden_size), I = double(s.intermediate_size),
                 L = double(s.num_layers), zw = double(s.num_heads * s.head_dim);
    StageCost c = checkpoint::weights_cost(shape, dt);
    // The edited block: its copy-on-write pages (the file's dtype; another dtype's converted
    // block is already in weights_cost).
    if (dt == shape.file_dtype) c.weights += shape.block_parameters * e;
    const double N = calibrated_ && calibration_ ? double(calibration_->samples) : 0;
    const double T = calibrated_ && calibration_ ? double(calibration_->seq_len) : 0;
    if (N > 0) {
      const double B = std::min<double>(N, batch());
      c.calibration = N * T * D * e;  // one stream: each batch is replaced by the block's output
      c.spillable = calibration_->spill == "never" ? 0 : c.calibration;
      StageCost block;
      ModelSpec one = s;
      one.num_layers = 1;
      checkpoint::add_forward(block, one, dt, B, T);
      c.activations = block.activations;
      c.flops += L * (block.flops - 2 * B * T * D * double(s.vocab_size)) * (N / B) * 2;  // stats + stream
    }
    // The largest map is the MLP's [I, D] (gate or up; down is [D, I]): every method copies it
    // to float32 and works beside it.
    const double big = I * D, kv = double(s.num_kv_heads * s.head_dim), P = shape.block_parameters;
    if (prune_.method == "sparsegpt") {
      // In float64: the X^T X of the block's four inputs (ln1, z, normalized, post), held from
      // the calibration pass on (each dropped once its last map is pruned, so the widest is
      // nearly alone when its turn comes); the widest factorization (prune/hessian_factor.h) turns
      // its X^T X into H in place and holds one more I x I beside it, then U in float32; in float32
      // the map, its update and W * mask (the column walk is in float32). Measured on Phi-3-medium's
      // shapes (3 random blocks, 2 x 2048 tokens): 12.5-14.9 GiB per block against this 14.2.
      c.calibration += (2 * D * D + zw * zw + I * I) * 8;
      c.solver = I * I * 8 + I * I * 4 + 3 * big * 4;
      const double hessians = 2 * N * T * (2 * D * D + zw * zw + I * I);
      const double updates = 2 * ((zw + 2 * kv) * D * D + D * zw * zw + 2 * I * D * D + D * I * I);
      // Per map: a Cholesky and a triangular inverse, n^3 / 3 multiply-adds each.
      const double inverses = (2 * D * D * D + zw * zw * zw + I * I * I) * 4 / 3;
      c.flops += L * (hessians + updates + inverses);
    } else if (prune_.method == "oats") {
      // Per round a rank-r SVD of each map: randomized, a sketch of r + oversampling columns
      // with q power iterations (2 (2q + 2) multiplies of the map by it); exact, ~10 m n min(m, n).
      const double rank = prune_.rank_ratio * (1 - prune_.sparsity) * big / (I + D);
      const double per_round = prune_.svd == "randomized"
                                   ? 2 * P * (rank + prune_.oversampling) * (2 * prune_.power_iterations + 2)
                                   : 10 * P * std::min(D, I);
      // Float32 copies of the map alive in a round: W, W D, S, A - S, L u v, the residual, its
      // absolute value, the threshold's masks, the next S and the objective's temporary: ~12
      // (bench_scale measured 7.0 GB on a Phi-3-medium block with a row sort, this gives 7.5;
      // the selection that replaced the sort needs less).
      c.solver = 12 * big * 4;
      c.flops += L * double(prune_.iterations) * per_round;
    } else {
      // W in float32, the scores, the threshold's masks and the error's two temporaries: ~8
      // copies (an upper bound since masks come from a selection, not a row sort).
      c.solver = 8 * big * 4;
    }
    // The time is dominated by the solvers: SparseGPT's Hessians and factorizations run in
    // float64 (its float32 column walk is estimated at float64's throughput too: an upper bound),
    // the others' in float32 (each at the measured throughput of its dtype).
    c.dtype = prune_.method == "sparsegpt" ? at::kDouble : at::kFloat;
    c.fit = "calibration.batch_size, calibration.seq_len, model.dtype: bfloat16 (the file's dtype maps the weights)";
    return c;
  }

 private:
  int batch() const { return calibration_ ? calibration_->batch_size : 8; }
  ResolvedModel base_;
  PruneConfig prune_;
  bool calibrated_;
  std::optional<CalibrationConfig> calibration_;
};

}  // namespace

std::unique_ptr<Stage> make_prune_stage(const ResolvedModel& base, const PruneConfig& prune,
                                        const std::optional<CalibrationConfig>& calibration) {
  const bool calibrated = prune_method(prune.method).needs_calibration;
  return std::make_unique<PruneStage>(base, prune, calibrated, calibration);
}

}  // namespace sinklab::pruning
