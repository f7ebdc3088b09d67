#include "experiments/checkpoint/cost_model.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>

#include "experiments/checkpoint/prompt_tokens.h"
#include "framework/io/checkpoint_dir.h"
#include "framework/model/family.h"
#include "framework/model/language_model.h"
#include "framework/tokenizer/tokenizer.h"
#include "framework/util/error.h"

namespace fs = std::filesystem;

namespace sinklab::checkpoint {

double dtype_bytes(at::ScalarType t) { return double(c10::elementSize(t)); }

const CheckpointShape& checkpoint_shape(const std::string& dir) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<CheckpointShape>> known;
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = known[dir];
  if (slot) return *slot;
  auto s = std::make_unique<CheckpointShape>();
  s->spec = ModelSpec::from_config_json((fs::path(dir) / "config.json").string());
  CheckpointDir ckpt(dir);
  std::map<std::string, double> by_dtype;
  for (const auto& name : ckpt.names()) {
    const auto& info = ckpt.info(name);
    double n = 1;
    for (auto d : info.shape) n *= double(d);
    s->parameters += n;
    s->file_bytes += double(info.end - info.begin);
    by_dtype[info.dtype] += n;
  }
  for (const auto& t : checkpoint_layout(*s->spec.family, s->spec)) {  // the family's own table of block 0
    if (t.layer != 0) continue;
    double n = 1;
    for (auto d : t.shape) n *= double(d);
    s->block_parameters += n;
  }
  const std::string dominant =
      std::max_element(by_dtype.begin(), by_dtype.end(), [](auto& a, auto& b) { return a.second < b.second; })->first;
  s->file_dtype = dominant == "BF16" ? at::kBFloat16 : dominant == "F16" ? at::kHalf : at::kFloat;
  slot = std::move(s);
  return *slot;
}

StageCost weights_cost(const CheckpointShape& shape, at::ScalarType compute) {
  StageCost c;
  c.dtype = compute;
  c.mapped = shape.file_bytes;
  if (compute == shape.file_dtype) return c;
  // Converted: the whole model when its blocks are small (kConvertWholeBelowBytes), else the
  // tensors outside the blocks and the block that runs.
  const double blocks = double(shape.spec.num_layers) * shape.block_parameters * dtype_bytes(compute);
  c.weights = blocks < kConvertWholeBelowBytes
                  ? shape.parameters * dtype_bytes(compute)
                  : (shape.parameters - double(shape.spec.num_layers - 1) * shape.block_parameters) * dtype_bytes(compute);
  return c;
}

void add_forward(StageCost& c, const ModelSpec& s, at::ScalarType compute, double B, double T, double past) {
  const double e = dtype_bytes(compute), H = double(s.num_heads), D = double(s.hidden_size),
               I = double(s.intermediate_size), V = double(s.vocab_size), L = double(s.num_layers),
               hd = double(s.head_dim), KV = double(s.num_kv_heads);
  // Attention at its peak: the scores, scaled and masked (three in the compute dtype), their
  // float32 copy and its softmax, and the pattern cast back; q, k, v and the repeated k, v.
  const double keys = past + T;
  const double attention = B * H * T * keys * (4 * e + 8) + B * (H * T + 4 * KV * keys) * hd * e;
  // The gated MLP's gate, up, activation and product [B, T, I]; the residual stream and norms.
  const double mlp = 4 * B * T * I * e;
  const double stream = 4 * B * T * D * 4;
  const double logits = B * T * V * (e + 4);  // the head's output and its float32 copy
  c.activations = std::max(c.activations, std::max({attention, mlp, logits}) + stream);
  // 2 FLOPs per multiply-add: every block's maps, attention (QK^T and PV), the head.
  const double mlp_maps = (s.family && s.family->mlp == MlpKind::gated ? 3 : 2) * D * I;
  const double block_maps = D * (H + 2 * KV) * hd + H * hd * D + mlp_maps;
  c.flops += 2 * B * T * (L * block_maps + D * V) + 4 * B * L * H * T * keys * hd;
}

const Tokenizer& checkpoint_tokenizer(const std::string& dir) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<Tokenizer>> tokenizers;
  std::lock_guard<std::mutex> lock(mutex);
  auto& tok = tokenizers[dir];
  if (!tok) tok = std::make_unique<Tokenizer>(Tokenizer::from_file((fs::path(dir) / "tokenizer.json").string()));
  return *tok;
}

std::int64_t prompt_length(const std::string& dir, const PromptSpec& prompt) {
  // The ids only (no offsets): counting is linear in the text, whatever its length.
  return std::int64_t(prompt_ids(checkpoint_tokenizer(dir), prompt_text(prompt), prompt.max_tokens).size());
}

}  // namespace sinklab::checkpoint
