#pragma once
// Config of the learned-toy experiment (paper Section 4, trained): the `toy_learned:` section.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "framework/config/fields.h"
#include "framework/hooks/hook_sites.h"
#include "framework/intervene/intervention.h"
#include "framework/model/averaging_task.h"
#include "framework/model/toy_averaging.h"
#include "framework/prune/prune_config.h"
#include "framework/train/optimizer.h"

namespace sinklab::toy_learned {

struct TrainConfig {
  int steps = 3000;
  int batch_size = 64;
  int checkpoint_every = 250;  // plus step 0 (the initialisation) and the last step
  int eval_sequences = 1024;   // held-out set for the MSE curve and the measures
  OptimizerConfig optimizer;
  template <class V>
  void fields(V& v) {
    v("steps", steps, "optimizer steps", Check::between(1, 10000000));
    v("batch_size", batch_size, "sequences per step", Check::between(1, 1 << 20));
    v("checkpoint_every", checkpoint_every, "steps between safetensors checkpoints", Check::at_least(1));
    v("eval_sequences", eval_sequences, "held-out sequences", Check::between(1, 1 << 20));
    v("optimizer", optimizer, "Adam/AdamW, schedule, clipping");
  }
};

// One model to train: its architecture and its training recipe.
struct ModelRun {
  ToyModelSpec model;
  TrainConfig train;
  template <class V>
  void fields(V& v) {
    v("model", model, "architecture");
    v("train", train, "training recipe");
  }
};

struct ExampleSequence {
  int length = 16;
  int sep_position = 6;  // t, 1-based
  template <class V>
  void fields(V& v) {
    v("length", length, "T of the sequence drawn in the attention figure", Check::between(2, 512));
    v("sep_position", sep_position, "t, 1-based", Check::at_least(1));
  }
  void validate(const Decoder& d) const {
    if (sep_position >= length) d.fail("sep_position", fmt::format("must be < length ({})", length));
  }
};

// An intervention on every trained toy-averaging model (its final checkpoint), measured on the
// held-out set against the clean model: catch, tag and release tested causally.
struct ToyInterventionSpec {
  std::vector<Ablation> ablate;
  bool tag_dim = false;
  template <class V>
  void fields(V& v) {
    v("ablate", ablate, "edits applied in order: [{site, layers, heads, positions, dims, op, value}] (sites: "
      "ln1_normalized, pattern, z, normalized, post, resid_post; positions are absolute: [SEP]'s varies per sequence)");
    v("tag_dim", tag_dim, "every edit's dims also take the tag dimension the measure stage found at the last "
      "checkpoint (the dim whose |h| after layer 1 grows most after [SEP])");
  }
  void validate(const Decoder& d) const {
    if (ablate.empty()) d.fail("ablate", "give at least one edit");
    for (const auto& a : ablate) {
      if (a.op == "mean" || a.op == "resample" || !a.tokens.empty() || a.massive_dims)
        d.fail("ablate", "toys take zero, scale, set and clamp at layers, heads, positions and dims");
      static const std::vector<std::string> sites{"ln1_normalized", "pattern", "z", "normalized", "post", "resid_post"};
      if (std::find(sites.begin(), sites.end(), hook_site(a.site).short_name) == sites.end())
        d.fail("ablate", fmt::format("site {}: a toy computes ln1_normalized, pattern, z, normalized, post and resid_post",
                                     a.site));
      if (tag_dim && hook_site(a.site).short_name != "resid_post" && hook_site(a.site).short_name != "ln1_normalized" &&
          hook_site(a.site).short_name != "normalized")
        d.fail("tag_dim", fmt::format("the tag is a d_model dim: site {} has none", a.site));
    }
  }
};

struct Config {
  AveragingTask task;
  std::map<std::string, ModelRun> models;
  std::vector<std::int64_t> seeds{0};
  ExampleSequence example;
  std::map<std::string, PruneConfig> prune;  // variant name -> method, applied to every trained toy
  int calibration_sequences = 256;
  std::map<std::string, ToyInterventionSpec> interventions;
  template <class V>
  void fields(V& v) {
    v("task", task, "the averaging task the models learn");
    v("models", models, "name -> {model, train}; each is trained once per seed");
    v("seeds", seeds, "training seeds (one run per model and seed)", Check::at_least(0));
    v("example", example, "the held-out sequence drawn in the attention figure");
    v("prune", prune, "name -> {method, sparsity, ...}: prune each final toy-averaging model and measure again");
    v("calibration_sequences", calibration_sequences, "averaging-task sequences the pruning calibrates on",
      Check::between(1, 1 << 20));
    v("interventions", interventions, "name -> {ablate, tag_dim}: edits of each final toy-averaging model, measured on "
      "the held-out set against the clean model");
  }
  void validate(const Decoder& d) const {
    if (models.empty()) d.fail("models", "name at least one model to train, e.g. {toy2d: {model: {kind: toy-averaging-2d}}}");
    if (seeds.empty()) d.fail("seeds", "give at least one seed");
    // Pruning applies to the toy-averaging models; the 2-d model's 2x2 maps have nothing to prune.
    if (!prune.empty() && std::none_of(models.begin(), models.end(), [](const auto& m) { return !m.second.model.is_2d(); }))
      d.fail("prune", "every model is toy-averaging-2d: only toy-averaging models have linear maps to prune");
    if (!interventions.empty() && std::none_of(models.begin(), models.end(), [](const auto& m) { return !m.second.model.is_2d(); }))
      d.fail("interventions", "every model is toy-averaging-2d: interventions edit toy-averaging models' hook sites");
    for (const auto& [name, e] : interventions)
      if (name.empty() || name == "clean" || name.find_first_of("./ ") != std::string::npos)
        d.fail("interventions", fmt::format("intervention name '{}' must be non-empty, not 'clean', without '.', '/' "
                                            "or spaces", name));
    for (const auto& [name, run] : models)
      if (name.empty() || name.find_first_of("./ ") != std::string::npos)
        d.fail("models", fmt::format("model name '{}' must be non-empty without '.', '/' or spaces", name));
  }
};

}  // namespace sinklab::toy_learned
