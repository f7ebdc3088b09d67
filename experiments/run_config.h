#pragma once
// The top-level config of `sinklab run`: shared settings plus one optional section per
// experiment kind. Each section present adds that experiment's stages to the run.
#include <optional>
#include <string>

#include "experiments/theorem41/config.h"
#include "experiments/toy_learned/config.h"
#include "framework/config/fields.h"

namespace sinklab {

struct RunConfig {
  std::string name;
  std::int64_t seed = 0;
  std::string device = "auto";
  int threads = 0;
  std::optional<theorem41::Config> theorem41;
  std::optional<toy_learned::Config> toy_learned;

  template <class V>
  void fields(V& v) {
    v("name", name, "run name: results/<name>/<run-id>", Check::required_non_empty());
    v("seed", seed, "seed of every random draw", Check::at_least(0));
    v("device", device, "cpu, cuda, cuda:N or auto");
    v("threads", threads, "CPU threads; 0 = all usable cores", Check::between(0, 4096));
    v("theorem41", theorem41, "Theorem 4.1 on the built-in averaging model (paper Section 4)");
    v("toy_learned", toy_learned, "the averaging models trained from scratch (paper Section 4, learned)");
  }
  void validate(const Decoder& d) const;
};

}  // namespace sinklab
