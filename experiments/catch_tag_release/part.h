#pragma once
// "Catch, tag, release" on a HuggingFace model (paper Section 2, Figs. 2 and 7-11; the figure
// stages of Figs. 4 and 5). Per variant V of the model:
//   hook.V     runs every prompt, keeps the probed sites (and those the PCA needs) with the
//              token ids, strings and offsets
//   metrics.V  sink scores of every head, massive activations, outlier dimensions, per-head
//              spectra of W_Q W_K^T and W_V (streams the forward pass: nothing else is kept)
// and once for all variants:
//   pca        the PCA colourings (fitted per variant or jointly)
//   catch_tag_release.report   attention maps, PCA token strips, sink heatmaps, activations
#include "experiments/experiment.h"
#include "experiments/run_config.h"

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
std::vector<SiteRequest> site_requests(const RunConfig& config, std::int64_t layers);

class CatchTagReleaseExperiment : public Experiment {
 public:
  explicit CatchTagReleaseExperiment(const RunConfig& config);
  std::string name() const override { return "catch_tag_release"; }
  std::vector<std::unique_ptr<Stage>> stages() const override;
  void report(const Hdf5File& run, const std::string& figures_dir, nlohmann::ordered_json& summary) const override;
  std::vector<std::string> input_problems() const override;

 private:
  void report_metrics(const Hdf5File& run, const std::string& figures_dir, nlohmann::ordered_json& summary) const;
  RunConfig config_;
  std::vector<ResolvedModel> models_;  // one per variant, display order
};

}  // namespace sinklab::catch_tag_release
