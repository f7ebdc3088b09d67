#pragma once
// Pruning a whole model, block by block: gather the calibration statistics of block l's linear
// maps from the residual stream entering it, prune them, then run the pruned block to make the
// stream for block l + 1 (sequential, as SparseGPT, Wanda and OATS do; one-shot takes the dense
// block's output instead). Only linear maps inside decoder blocks are pruned.
#include <ATen/core/Tensor.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "framework/hooks/hook_points.h"
#include "framework/model/linear_layer.h"
#include "framework/prune/linear_stats.h"
#include "framework/prune/prune_config.h"

namespace sinklab {

class LanguageModel;
class PrunedBlockStore;

struct PrunedLayerRecord {
  std::string name, kind;
  std::int64_t layer = 0, rows = 0, cols = 0;
  std::int64_t zeros = 0;       // exact zeros of the stored weight
  std::int64_t parameters = 0;  // kept parameters (sparse nonzeros + low-rank factors)
  std::int64_t rank = 0;        // oats
  double seconds = 0;
  double relative_error = 0;    // ||W - W'||_F / ||W||_F
  std::vector<double> objective;
  at::Tensor lowrank_u, lowrank_v, keep;  // oats: the factors and S's pattern (in the PrunedBlockStore when there is one)
};

struct PruneReport {
  std::vector<PrunedLayerRecord> matrices;
  std::vector<double> block_seconds;
  // The process's peak anonymous memory while each block was calibrated and pruned (or restored),
  // bytes: constant over the blocks when the stage is memory-bounded, growing when something leaks.
  std::vector<double> block_peak_bytes;
  std::int64_t calibration_tokens = 0;
  std::int64_t restored_blocks = 0;  // taken from a PrunedBlockStore instead of pruned again
};

// Prunes one linear map in place with `config`'s method (stats: its inputs' statistics, empty
// for methods that need none; the method may consume them) and accounts for it.
PrunedLayerRecord prune_linear(LinearLayer& linear, LinearStats stats, const PruneConfig& config, std::int64_t layer);
// Prunes a block's maps in order. `stats` (from input_statistics, or empty for magnitude) loses
// each input's entry to that input's last map, which may consume it (SparseGPT turns X^T X into
// H in place): a block holds one Hessian fewer with each input done.
std::vector<PrunedLayerRecord> prune_linears(std::vector<LinearLayer>& linears, std::map<std::string, LinearStats>& stats,
                                             const PruneConfig& config, std::int64_t layer);

// One LinearStats per distinct input site of `linears` (Q, K and V share theirs), and hooks that
// fill them from a forward pass (z [B, T, H, hd] is taken as [B*T, H*hd]).
std::map<std::string, LinearStats> input_statistics(const std::vector<LinearLayer>& linears, bool hessian);
HookPoints filling(std::map<std::string, LinearStats>& stats);

// Prunes `model` in place. `ids` [N, T] calibration windows, run `batch` sequences at a time.
// `on_block(l)` is called after each block (progress). Each pruned block is rounded to the
// checkpoint's dtype before the stream passes it. With a `store`, each finished block is saved
// there and its memory released (the model's blocks are then unspecified: the store holds the
// pruned model), and blocks the store already holds are restored, not pruned again (the
// calibration stream still passes through them: one forward pass per block). With a
// `scratch_dir`, the calibration stream [N, T, D] lives in a scratch file there (file-backed
// pages, written out under memory pressure) instead of anonymous memory: the same values.
PruneReport prune_model(LanguageModel& model, const at::Tensor& ids, const PruneConfig& config, int batch = 8,
                        const std::function<void(std::int64_t)>& on_block = {},
                        const PrunedBlockStore* store = nullptr, const std::string& scratch_dir = "");

}  // namespace sinklab
