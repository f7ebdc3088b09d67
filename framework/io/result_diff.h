#pragma once
// Two runs' numbers side by side, quantity by quantity, each judged against a tolerance: every
// number of summary.json (under its dotted path) and every dataset of run.h5. Integers, booleans
// and strings (token ids, masks, token text, integer counts) must be equal; floats agree when
//     difference = max_i |a_i - b_i| / max_i |a_i|
// (relative to the quantity's scale, so one near-zero element of a large tensor does not decide)
// is within the tolerance of their dtype. Wall-clock and memory measurements (seconds, peak MiB),
// which no rerun repeats, are left out by name (`is_time_or_memory`), and so is summary.json's
// config_hash (the run's identity: it changes with any input path). Strings are compared after
// `renamed` (the actual side's paths put back to the expected side's: inputs found elsewhere).
// Used by `archive rerun` and by the invariance checks.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace sinklab {

struct Tolerances {
  // Relative tolerance per float dtype ("float64", "float32", "bfloat16", "float16"); summary
  // numbers written as JSON floats count as "summary". sinklab computes in float32 and keeps sums
  // and statistics (log-likelihoods, sink scores) in float64, so float64 datasets carry float32's
  // rounding: another thread count or batch size moves them by ~1e-6 relative (tiny-phi3).
  double float64 = 1e-5, float32 = 1e-4, half = 1e-2, summary = 1e-4;
  // (glob on the quantity's name, tolerance), e.g. ("summary.json:eval.*", 1e-3); the last match
  // wins. A glob may name integer quantities too (0 = exact).
  std::vector<std::pair<std::string, double>> overrides;

  // The defaults for a rerun on the same kind of device, or across devices (a GPU on either side:
  // other kernels, other summation orders).
  static Tolerances defaults(bool across_devices);
  double for_quantity(const std::string& name, const std::string& dtype) const;
  // "GLOB=VALUE" or "VALUE" (every float default); InputError naming the option otherwise.
  void add_override(const std::string& spec);
};

struct QuantityDiff {
  std::string name;          // "summary.json:eval.variants.dense.perplexity", "run.h5:/metrics.dense/alpha0"
  std::string dtype;         // float32, int64, string, bool; "integer" / "number" for summary values
  std::int64_t elements = 0;
  std::int64_t differing = 0;  // elements that are not equal
  double max_abs = 0;          // max |a - b| (numbers only)
  double relative = 0;         // max |a - b| / max |a|; for exact kinds, differing / elements
  double tolerance = 0;        // 0: must be equal
  std::string problem;         // "" or what makes the two incomparable (absent, shape, NaN places)
  bool agrees() const;
  // relative / tolerance (infinite for a problem or an unequal exact quantity): the sort key,
  // largest first.
  double severity() const;
};

// Names like "seconds", "compute_seconds", "microseconds_per_step", "peak_anonymous_mib", "tokens_per_second".
bool is_time_or_memory(const std::string& name);

// (expected's text, actual's text) pairs: an input path and where the rerun found it.
using Renamed = std::vector<std::pair<std::string, std::string>>;

std::vector<QuantityDiff> diff_summaries(const nlohmann::json& expected, const nlohmann::json& actual,
                                         const Tolerances& tolerances, const Renamed& renamed = {});
std::vector<QuantityDiff> diff_hdf5_files(const std::string& expected, const std::string& actual,
                                          const Tolerances& tolerances, const Renamed& renamed = {});
// Largest severity first; quantities that agree exactly keep their name order.
void sort_by_severity(std::vector<QuantityDiff>& diffs);

}  // namespace sinklab
