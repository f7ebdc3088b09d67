#include "experiments/experiment.h"

#include "experiments/theorem41/experiment.h"

namespace sinklab {

std::vector<std::unique_ptr<Experiment>> experiments_for(const RunConfig& config) {
  std::vector<std::unique_ptr<Experiment>> out;
  if (config.theorem41) out.push_back(std::make_unique<theorem41::Theorem41Experiment>(*config.theorem41, config.seed));
  return out;
}

}  // namespace sinklab
