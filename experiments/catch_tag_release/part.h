#pragma once
// "Catch, tag, release" on a HuggingFace model (paper Section 2, Figs. 2 and 7-11; the figures
// of Figs. 4 and 5). Per variant V of the model:
//   hook.V     runs every prompt, keeps the probed sites (and those the PCA needs) with the
//              token ids, strings and offsets
//   metrics.V  sink scores of every head, massive activations, outlier dimensions, per-head
//              spectra of W_Q W_K^T and W_V (streams the forward pass: nothing else is kept)
// and once for all variants:
//   pca        the PCA colourings (fitted per variant or jointly)
// Its report: attention maps, activation plots, PCA token strips, sink heatmaps, magnitudes.
#include "experiments/catch_tag_release/config.h"
#include "experiments/checkpoint/part.h"

namespace sinklab::catch_tag_release {

// One hook site to keep for one prompt: heads empty = all heads (or a site without heads).
struct SiteRequest {
  std::string prompt;
  std::int64_t layer = 0;
  std::string hook;  // full name, e.g. blocks.3.attn.hook_pattern
  std::vector<std::int64_t> heads;
};

// The sites the hook stage keeps: the probes' and the PCA's, merged per (prompt, hook).
// `layers` is the model's depth, for probes that ask for every layer.
std::vector<SiteRequest> site_requests(const Config& config, const std::vector<checkpoint::PromptSpec>& prompts,
                                       std::int64_t layers);

class CatchTagReleasePart : public checkpoint::Part {
 public:
  // Fills the PCA defaults that depend on the prompts (prompt: the first; fit_prompt: prompt).
  CatchTagReleasePart(Config config, const std::vector<checkpoint::PromptSpec>& prompts);
  std::vector<std::unique_ptr<Stage>> variant_stages(const checkpoint::Inputs& inputs,
                                                     const checkpoint::ResolvedModel& model) const override;
  std::vector<std::unique_ptr<Stage>> combining_stages(const checkpoint::Inputs& inputs) const override;
  void report(const RunView& run, const checkpoint::Inputs& inputs, const std::string& figures_dir,
              nlohmann::ordered_json& summary) const override;
  nlohmann::ordered_json report_reads() const override;
  void check_indices(const checkpoint::Inputs& inputs, const ModelSpec& spec,
                     const checkpoint::ResolvedModel& model) const override;

 private:
  void report_probes(const RunView& run, const checkpoint::Inputs& inputs, const std::string& figures_dir) const;
  void report_pca(const RunView& run, const checkpoint::Inputs& inputs, const std::string& figures_dir,
                  nlohmann::ordered_json& summary) const;
  void report_metrics(const RunView& run, const checkpoint::Inputs& inputs, const std::string& figures_dir,
                      nlohmann::ordered_json& summary) const;
  Config config_;
};

}  // namespace sinklab::catch_tag_release
