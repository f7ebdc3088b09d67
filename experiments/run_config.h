#pragma once
// The top-level config of `sinklab run`: shared settings plus the sections of every experiment
// kind (each folder owns its sections' structs; this file only gathers them). Which sections
// add which experiments is experiments.cpp's table.
#include <optional>
#include <string>

#include "experiments/catch_tag_release/config.h"
#include "experiments/checkpoint/inputs.h"
#include "experiments/evaluation/config.h"
#include "experiments/interventions/config.h"
#include "experiments/theorem41/config.h"
#include "experiments/toy_learned/config.h"
#include "framework/config/fields.h"
#include "framework/prune/calibration.h"
#include "framework/runner/invariance_check.h"

namespace sinklab {

// `sweep:` - axes `sinklab sweep` runs over (`sinklab run` ignores it).
struct SweepSpec {
  OrderedMap<std::vector<std::string>> grid, zip;  // in the order written: the first axis is a heatmap's rows
  template <class V>
  void fields(V& v) {
    v("grid", grid, "key.path -> values; every combination is a point");
    v("zip", zip, "key.path -> values; these axes advance together (equal lengths)");
  }
};

struct RunConfig {
  std::string name;
  std::int64_t seed = 0;
  std::string device = "auto";
  int threads = 0;
  std::optional<theorem41::Config> theorem41;
  std::optional<toy_learned::Config> toy_learned;
  // The experiment on a HuggingFace checkpoint (experiments/checkpoint) and its parts.
  std::optional<checkpoint::ModelSection> model;
  std::vector<checkpoint::PromptSpec> prompts;
  std::map<std::string, checkpoint::VariantSpec> variants;
  std::optional<CalibrationConfig> calibration;
  std::vector<catch_tag_release::Probe> probes;
  std::vector<catch_tag_release::PcaSpec> pca;
  std::optional<catch_tag_release::MetricsSpec> metrics;
  catch_tag_release::FigureSpec figures;
  std::optional<evaluation::EvalSpec> eval;
  std::optional<interventions::Section> interventions;
  std::optional<SweepSpec> sweep;
  InvarianceChecks checks;

  template <class V>
  void fields(V& v) {
    v("name", name, "run name: results/<name>/<run-id>", Check::required_non_empty());
    v("seed", seed, "seed of every random draw", Check::at_least(0));
    v("device", device, "cpu, cuda, cuda:N or auto");
    v("threads", threads, "CPU threads; 0 = all usable cores", Check::between(0, 4096));
    v("theorem41", theorem41, "Theorem 4.1 on the built-in averaging model (paper Section 4)");
    v("toy_learned", toy_learned, "the averaging models trained from scratch (paper Section 4, learned)");
    v("model", model, "a HuggingFace checkpoint to hook, measure and draw (paper Sections 2-3)");
    v("prompts", prompts, "prompts run through the model: [{id, text | file, max_tokens}]");
    v("variants", variants, "name -> variant of the model, side by side in figures (default {dense: {}})");
    v("calibration", calibration, "calibration text for pruned variants: {path, samples, seq_len, seed}");
    v("probes", probes, "hook sites to keep: [{site, layers, heads, prompts, plot}]");
    v("pca", pca, "PCA colourings: [{site, layer, head, prompt, fit_prompt, components, exclude_first, joint}]");
    v("metrics", metrics, "sink scores, massive activations, outlier dimensions, per-head spectra");
    v("figures", figures, "figure options");
    v("sweep", sweep, "axes for `sinklab sweep`: {grid: {key: [values]}, zip: {...}}");
    v("checks", checks, "invariance checks: {batch_invariance, thread_invariance, tolerance}");
    v("eval", eval, "few-shot multiple choice (MMLU as lm-evaluation-harness) and perplexity, per variant");
    v("interventions", interventions, "ablations, first-token edits and KV-cache policies against the clean run: "
      "{entries: {name: {ablate, first_token, kv}}, prompts, sink_epsilon, heads}");
  }
  void validate(const Decoder& d) const;

 private:
  void validate_model_sections(const Decoder& d) const;
};

}  // namespace sinklab
