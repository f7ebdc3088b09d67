#include "experiments/experiments.h"

#include "experiments/catch_tag_release/part.h"
#include "experiments/checkpoint/experiment.h"
#include "experiments/evaluation/part.h"
#include "experiments/interventions/part.h"
#include "experiments/pruning/part.h"
#include "experiments/theorem41/experiment.h"
#include "experiments/toy_learned/experiment.h"
#include "framework/runner/runner.h"

#include <ATen/Parallel.h>

namespace sinklab {

namespace {

// The checkpoint experiment with the parts its sections ask for, pruning first: its stages make
// the pruned checkpoints the other parts read.
std::unique_ptr<Experiment> checkpoint_experiment(const RunConfig& config) {
  std::vector<std::unique_ptr<checkpoint::Part>> parts;
  if (pruning::has_pruned_variants(config.variants)) parts.push_back(std::make_unique<pruning::PruningPart>(config.calibration));
  if (!config.probes.empty() || !config.pca.empty() || config.metrics)
    parts.push_back(std::make_unique<catch_tag_release::CatchTagReleasePart>(
        catch_tag_release::Config{config.probes, config.pca, config.metrics, config.figures}, config.prompts));
  if (config.eval) parts.push_back(std::make_unique<evaluation::EvaluationPart>(*config.eval));
  if (config.interventions)
    parts.push_back(std::make_unique<interventions::InterventionsPart>(*config.interventions));
  return std::make_unique<checkpoint::CheckpointExperiment>(*config.model, config.prompts, config.variants, std::move(parts));
}

}  // namespace

std::vector<std::unique_ptr<Experiment>> experiments_for(const RunConfig& config) {
  std::vector<std::unique_ptr<Experiment>> out;
  if (config.theorem41) out.push_back(std::make_unique<theorem41::Theorem41Experiment>(*config.theorem41, config.seed));
  if (config.toy_learned) out.push_back(std::make_unique<toy_learned::ToyLearnedExperiment>(*config.toy_learned));
  if (config.model) out.push_back(checkpoint_experiment(config));
  return out;
}

std::vector<std::unique_ptr<Experiment>> add_experiment_stages(const RunConfig& config, Runner& runner) {
  auto experiments = experiments_for(config);
  for (const auto& e : experiments) add_experiment(*e, runner);
  add_invariance_checks(config.checks, at::get_num_threads(), runner);
  return experiments;
}

}  // namespace sinklab
