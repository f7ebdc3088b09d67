#pragma once
// A checkpoint with a real model's exact shapes and random weights, for measuring what a model
// of that size costs without downloading it (scripts/bench_scale.sh) and for tests. Written one
// shard per block (and one for the embeddings, final norm and head) with an index, so making a
// 14 B model never holds more than a block in memory.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace sinklab {

struct RandomCheckpointOptions {
  std::int64_t layers = -1;  // keep only this many blocks (-1: as config.json says)
  at::ScalarType dtype = at::kBFloat16;
  std::uint64_t seed = 0;
  double std = 0.02;  // transformers' initializer_range: weights ~ N(0, std), norms 1, biases 0
};

// Writes `config` (a config.json of any registered family, its block count replaced when
// options.layers >= 0) and random weights to `out_dir`; returns the bytes of weights written.
std::uint64_t write_random_checkpoint(nlohmann::json config, const std::string& out_dir,
                                      const RandomCheckpointOptions& options);

}  // namespace sinklab
