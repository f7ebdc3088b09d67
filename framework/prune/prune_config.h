#pragma once
// What to prune and how: the `prune:` section of a variant (hyperparameters from the paper and
// the methods' reference code).
#include <string>
#include <vector>

#include "framework/config/fields.h"

namespace sinklab {

// The registered pruning methods (methods.cpp's registry is their one home), for the config's check.
std::vector<std::string> prune_method_names();

// "unstructured", or N:M (N weights kept in every group of M consecutive inputs of a row).
struct SparsityPattern {
  int n = 0, m = 0;  // 0:0 = unstructured
  bool structured() const { return m > 0; }
  static SparsityPattern parse(const std::string& text);  // InputError on anything else
};

struct PruneConfig {
  std::string method = "wanda";
  double sparsity = 0.5;
  std::string pattern = "unstructured";
  bool sequential = true;
  double damp = 0.01;
  int block_size = 128;
  double rank_ratio = 0.25;
  int iterations = 80;
  std::string svd = "exact";
  int oversampling = 10;
  // Measured with scripts/bench_prune.sh, 20 OATS rounds at 50 % (2 cores): 2 power iterations left
  // the reconstruction 1.018x exact OATS's at 3072^2, 3 keep it within 1.009x (1024^2: 1.004x) for
  // 14 % more time; 20 columns of oversampling instead of 10 gained less than one more iteration.
  int power_iterations = 3;
  template <class V>
  void fields(V& v) {
    v("method", method, "pruning method, as registered in framework/prune/methods.cpp (magnitude, wanda, sparsegpt, oats today)", Check::one_of(prune_method_names()));
    v("sparsity", sparsity, "fraction of each matrix's weights removed (the parameter budget for oats)",
      Check::between(0, 0.99));
    v("pattern", pattern, "unstructured, or N:M such as 2:4 or 4:8 (sparsity must then be 1 - N/M)");
    v("sequential", sequential, "calibrate block l on the outputs of the already pruned blocks 0..l-1");
    v("damp", damp, "sparsegpt: dampening, a fraction of mean(diag H) (reference 0.01, the paper 0.1)",
      Check::greater_than(0));
    v("block_size", block_size, "sparsegpt: columns per lazy-update block (adaptive mask selection)",
      Check::between(1, 1 << 20));
    v("rank_ratio", rank_ratio, "oats: share of the kept parameters in the low-rank term", Check::between(0, 0.99));
    v("iterations", iterations, "oats: alternating SVD / threshold rounds (paper: 80)", Check::between(1, 100000));
    v("svd", svd, "oats: exact, or randomized (range finder warm-started from the previous round)",
      Check::one_of({"exact", "randomized"}));
    v("oversampling", oversampling, "oats randomized SVD: extra columns of the sketch", Check::between(0, 4096));
    v("power_iterations", power_iterations, "oats randomized SVD: power iterations per round", Check::between(0, 64));
  }
  void validate(const Decoder& d) const;
  SparsityPattern parsed_pattern() const { return SparsityPattern::parse(pattern); }
};

}  // namespace sinklab
