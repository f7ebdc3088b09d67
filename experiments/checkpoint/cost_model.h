#pragma once
// Estimates of what the checkpoint experiment's stages cost (framework/runner/stage_cost.h), from
// config.json and the safetensors headers: the tensors TransformerLM's forward pass holds at its
// peak, the calibration stream and solver work of pruning, and the matmul FLOPs.
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <string>

#include "experiments/checkpoint/inputs.h"
#include "framework/model/model_spec.h"
#include "framework/runner/stage_cost.h"

namespace sinklab {
class Tokenizer;
}

namespace sinklab::checkpoint {

struct CheckpointShape {
  ModelSpec spec;
  double file_bytes = 0;   // every tensor's bytes as stored
  double parameters = 0;
  double block_parameters = 0;  // one decoder block's
  at::ScalarType file_dtype = at::kFloat;
};
// Reads config.json and the safetensors headers of `dir` (remembered per directory).
const CheckpointShape& checkpoint_shape(const std::string& dir);

// The model's weights as a stage holds them on the CPU: mapped, and in a `compute` dtype other
// than the file's, a converted copy of a small model, or of a large one's tensors outside the
// blocks and its running block (TransformerLM; kConvertWholeBelowBytes).
StageCost weights_cost(const CheckpointShape& shape, at::ScalarType compute);

// One forward pass over [B, T] tokens (after `past` cached ones): the live tensors at the
// attention softmax (scores in the compute dtype, masked, float32 and its softmax, the pattern),
// the MLP's intermediates, the logits; and its FLOPs. Added into `cost`.
void add_forward(StageCost& cost, const ModelSpec& spec, at::ScalarType compute, double B, double T, double past = 0);

// The checkpoint's tokenizer, loaded once per directory for every plan estimate.
const Tokenizer& checkpoint_tokenizer(const std::string& dir);
// The number of tokens a prompt has (tokenized with the checkpoint's tokenizer).
std::int64_t prompt_length(const std::string& dir, const PromptSpec& prompt);

double dtype_bytes(at::ScalarType t);

}  // namespace sinklab::checkpoint
