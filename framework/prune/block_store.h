#pragma once
// The finished blocks of one prune, on disk: a killed prune resumes at the first unfinished
// block, and the files are the pruned checkpoint's shards, so the model is never held or written
// whole. Per block l:
//   block-0000l.safetensors          the block's tensors under their checkpoint names, in the
//                                    file's dtype and fused layout (a HuggingFace shard), with
//                                    its records and seconds as JSON metadata
//   block-0000l.lowrank.safetensors  OATS: each map's factors and S's pattern (written first)
// Each file is written atomically and the shard last, so a block is either finished or absent.
// The directory belongs to one cache key (StageContext::resume_dir): config and inputs match by
// construction; what is read back is still checked against the model.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "framework/prune/prune_model.h"

namespace sinklab {

class LanguageModel;

class PrunedBlockStore {
 public:
  explicit PrunedBlockStore(std::string dir);
  const std::string& dir() const { return dir_; }
  bool has(std::int64_t layer) const;
  std::string shard(std::int64_t layer) const;  // the block's shard file
  // Saves block `layer` of `model` as it is stored (after pruning) with its records.
  void save(std::int64_t layer, const LanguageModel& model, const std::vector<PrunedLayerRecord>& records,
            double seconds) const;
  // Puts block `layer`'s pruned weights back into `model`; returns its records (without the OATS
  // factors: they stay in the file) and the seconds pruning it took.
  std::pair<std::vector<PrunedLayerRecord>, double> restore(std::int64_t layer, LanguageModel& model) const;
  // The block's OATS factors file ("" when its method made none).
  std::string lowrank(std::int64_t layer) const;

 private:
  std::string lowrank_path(std::int64_t layer) const;
  std::string dir_;
};

}  // namespace sinklab
