#pragma once
// The averaging task of the paper's Section 4: sequences x_1..x_T with one [SEP] at a random
// position t; the target is the mean of the numbers after [SEP]. Its config struct lives here
// so every experiment that trains or evaluates on the task shares one definition.
#include <ATen/core/Generator.h>

#include "framework/config/fields.h"
#include "framework/model/averaging_theory.h"

namespace sinklab {

struct NumberDistribution {
  std::string kind = "normal";  // x_i ~ N(loc, scale^2), or uniform on [loc - scale, loc + scale]
  double loc = 0.0;
  double scale = 1.0;
  template <class V>
  void fields(V& v) {
    v("kind", kind, "normal or uniform", Check::one_of({"normal", "uniform"}));
    v("loc", loc, "mean (normal) or centre (uniform)");
    v("scale", scale, "standard deviation (normal) or half-width (uniform)", Check::greater_than(0));
  }
};

// Random sequences; T and the [SEP] position vary per sequence.
struct AveragingTask {
  int min_length = 8;
  int max_length = 64;
  int min_before = 1;  // numbers before [SEP], at least
  int min_after = 1;   // numbers after [SEP], at least (the average needs one)
  NumberDistribution numbers;
  template <class V>
  void fields(V& v) {
    v("min_length", min_length, "shortest T (tokens, [SEP] included)", Check::between(2, 4096));
    v("max_length", max_length, "longest T", Check::between(2, 4096));
    v("min_before", min_before, "fewest numbers before [SEP]", Check::at_least(0));
    v("min_after", min_after, "fewest numbers after [SEP]", Check::at_least(1));
    v("numbers", numbers, "distribution of x_i");
  }
  void validate(const Decoder& d) const {
    if (max_length < min_length) d.fail("max_length", fmt::format("must be >= min_length ({})", min_length));
    if (min_before + min_after + 1 > min_length)
      d.fail("min_length", fmt::format("must be >= min_before + min_after + 1 = {}", min_before + min_after + 1));
  }
};

// N sequences padded to max_length, float64 on the CPU; reproducible for a given generator state.
// x is 0 at [SEP] and at padding.
AveragingBatch sample_averaging_batch(const AveragingTask& task, std::int64_t count, at::Generator& gen);
at::Tensor draw_numbers(const NumberDistribution& dist, at::IntArrayRef size, at::Generator& gen);
// "x1,x2,...,[SEP],..." for figure axes; `sep_position` is 1-based.
std::string averaging_token_labels(int length, int sep_position);
// The text of each position of one sequence x [T] for token displays: "x1=0.53", " x2=-1.20",
// " [SEP]", ... (spaced as a model's tokens carry their own spaces).
std::vector<std::string> averaging_token_texts(const at::Tensor& x, int sep_position);

}  // namespace sinklab
