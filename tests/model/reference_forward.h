#pragma once
// An independent, slow forward pass of the tiny checkpoints (tiny_checkpoint.h), written from
// transformers' modeling files in float64 with explicit masks: the CPU stand-in for goldens of
// the families whose transformers outputs are not committed yet. It reads the checkpoint's
// logical (unfused) weights and knows each family's block by its model_type, independently of
// framework/model.
#include <ATen/core/Tensor.h>

#include <string>

#include "tests/model/tiny_checkpoint.h"

namespace sinklab::test {

// ids [B, T] (no padding) -> logits [B, T, vocab] float64, for every tiny family but gpt2.
at::Tensor reference_logits(const TinyCheckpoint& c, const std::string& model_type, const at::Tensor& ids);

}  // namespace sinklab::test
