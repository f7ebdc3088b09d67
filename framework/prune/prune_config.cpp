#include "framework/prune/prune_config.h"

#include <cmath>

#include "framework/util/error.h"

namespace sinklab {

SparsityPattern SparsityPattern::parse(const std::string& text) {
  if (text == "unstructured") return {};
  SparsityPattern p;
  char colon = 0;
  int consumed = 0;
  bool ok = std::sscanf(text.c_str(), "%d%c%d%n", &p.n, &colon, &p.m, &consumed) == 3 && colon == ':' &&
            consumed == int(text.size()) && p.n >= 1 && p.m >= 2 && p.n < p.m;
  SINKLAB_INPUT_CHECK(ok, "pattern '{}' is not 'unstructured' or N:M with 1 <= N < M (e.g. 2:4, 4:8)", text);
  return p;
}

void PruneConfig::validate(const Decoder& d) const {
  SparsityPattern p;
  try {
    p = parsed_pattern();
  } catch (const InputError& e) {
    d.fail("pattern", e.what());
  }
  if (p.structured() && std::abs(sparsity - (1.0 - double(p.n) / p.m)) > 1e-9)
    d.fail("sparsity", fmt::format("pattern {} removes {:g} of the weights; set sparsity: {:g}", pattern,
                                   1.0 - double(p.n) / p.m, 1.0 - double(p.n) / p.m));
}

}  // namespace sinklab
