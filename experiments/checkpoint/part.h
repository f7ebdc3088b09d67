#pragma once
// A part of the checkpoint experiment: one kind of work on the variants of a HuggingFace model
// (catch-tag-release analysis, pruning, evaluation). Parts depend on this folder only, never on
// each other; they meet through stage names (stage_names.h) and the variants' checkpoints.
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "experiments/checkpoint/inputs.h"
#include "experiments/checkpoint/model_pool.h"
#include "framework/model/model_spec.h"
#include "framework/runner/run_view.h"
#include "framework/runner/stage.h"

namespace sinklab::checkpoint {

// What every part sees: the shared sections and each variant resolved, in display order.
struct Inputs {
  ModelSection model;
  std::vector<PromptSpec> prompts;
  std::map<std::string, VariantSpec> variants;
  std::vector<ResolvedModel> models;  // one per variant, "dense" first
  std::shared_ptr<ModelPool> pool;    // shared by every stage that runs a variant
};

class Part {
 public:
  virtual ~Part() = default;
  // Its stages, in three groups the experiment lays out so that a run loads each variant's model
  // once (the runner keeps declaration order where dependencies allow, and the pool holds the
  // model it loaded last):
  //   checkpoint_stages  make variants' checkpoints (pruning), run first while nothing is held
  //   variant_stages     read one variant's model (hook, metrics, eval); every part's stages of
  //                      one variant are declared together, variant after variant
  //   combining_stages   read the per-variant results of all variants (pca)
  virtual std::vector<std::unique_ptr<Stage>> checkpoint_stages(const Inputs&) const { return {}; }
  virtual std::vector<std::unique_ptr<Stage>> variant_stages(const Inputs&, const ResolvedModel&) const { return {}; }
  virtual std::vector<std::unique_ptr<Stage>> combining_stages(const Inputs&) const { return {}; }
  // Figures into `figures_dir`, numbers into `summary`, from the run's datasets only.
  virtual void report(const RunView& run, const Inputs& inputs, const std::string& figures_dir,
                      nlohmann::ordered_json& summary) const = 0;
  // The config the report reads (hashed into the report stage's key).
  virtual nlohmann::ordered_json report_reads() const = 0;
  // Absent inputs (data files), each with its fix; listed by `validate`, they stop `run`.
  virtual std::vector<std::string> input_problems(const Inputs& inputs) const { return {}; }
  // Throws an InputError when a configured layer or head index does not exist in `model`
  // (whose config.json is `spec`): checked before any stage runs, not after an hour of work.
  virtual void check_indices(const Inputs& inputs, const ModelSpec& spec, const ResolvedModel& model) const {}
};

}  // namespace sinklab::checkpoint
