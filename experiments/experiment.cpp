#include "experiments/experiment.h"

#include "experiments/theorem41/experiment.h"
#include "experiments/toy_learned/experiment.h"

namespace sinklab {

std::vector<std::unique_ptr<Experiment>> experiments_for(const RunConfig& config) {
  std::vector<std::unique_ptr<Experiment>> out;
  if (config.theorem41) out.push_back(std::make_unique<theorem41::Theorem41Experiment>(*config.theorem41, config.seed));
  if (config.toy_learned) out.push_back(std::make_unique<toy_learned::ToyLearnedExperiment>(*config.toy_learned));
  return out;
}

}  // namespace sinklab
