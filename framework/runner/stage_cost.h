#pragma once
// What a stage will cost, estimated before it runs from config.json, the safetensors headers and
// the config alone (no weights are read): peak memory by kind and matmul work. `sinklab plan`
// prints these; `sinklab run` prints them too and stops before creating anything when a stage's
// anonymous memory would exceed the budget.
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <optional>
#include <string>
#include <vector>

namespace sinklab {

struct StageCost {
  // Bytes. `mapped` is the checkpoint read through its memory mapping: file-backed pages the
  // kernel drops under pressure, so it does not count against the budget; the rest does.
  double mapped = 0;
  double weights = 0;      // anonymous weight copies (a dtype other than the file's, a GPU copy)
  double activations = 0;  // the largest forward pass's live tensors
  double hooks = 0;        // captured hook sites held at once
  double calibration = 0;  // calibration streams (the residual entering the block, per window)
  double solver = 0;       // Hessians, SVD and solver work of the largest map
  double kv_cache = 0;
  // Of the above, the bytes the stage moves into a scratch file in the cache (file-backed pages)
  // when it would exceed the memory budget in memory: a calibration stream (spills()).
  double spillable = 0;
  double flops = 0;        // matmul floating-point operations
  at::ScalarType dtype = at::kFloat;  // the compute dtype (which throughput the time uses)
  std::string fit;         // the config keys that make it smaller, for the refusal message
  double anonymous() const { return weights + activations + hooks + calibration + solver + kv_cache; }
  // True when `base` + anonymous() exceeds `budget` and spilling would help (budget 0: none).
  bool spills(double base, double budget) const { return budget > 0 && spillable > 0 && base + anonymous() > budget; }
  // What the stage holds in anonymous memory under `budget`, after spilling if it spills.
  double anonymous_within(double base, double budget) const { return anonymous() - (spills(base, budget) ? spillable : 0); }
};

struct PlannedStage {
  std::string name;
  std::optional<StageCost> cost;  // none: too small to matter (or not estimated: `note` says)
  std::string note;
};

// Measured matmul throughput of this machine for `dtype` on `device`, FLOP/s (about 0.3 s).
double matmul_flops_per_second(at::ScalarType dtype, c10::Device device);

// The plan as a table: per stage the estimated peak anonymous memory by kind (GiB), the mapped
// checkpoint, and the time from the FLOPs at `flops_per_second[dtype]`; `base` is the process's
// own anonymous memory, added to every stage.
std::string plan_table(const std::vector<PlannedStage>& stages, double base_bytes, c10::Device device);

// The stages whose base + anonymous estimate exceeds `budget_bytes` (after spilling what they
// can), as one message naming each stage, its estimate and the keys that make it fit; "" when
// all fit.
std::string over_budget(const std::vector<PlannedStage>& stages, double base_bytes, double budget_bytes);
// One line per stage that fits only by spilling (its scratch file's size); "" when none does.
std::string spilling(const std::vector<PlannedStage>& stages, double base_bytes, double budget_bytes);

}  // namespace sinklab
