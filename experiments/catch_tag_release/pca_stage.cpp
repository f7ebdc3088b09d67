// pca: the paper's PCA colourings of token vectors, per variant or fitted jointly.
#include <ATen/ATen.h>

#include <algorithm>

#include "experiments/catch_tag_release/stages.h"
#include "experiments/checkpoint/stage_names.h"
#include "framework/analysis/pca.h"
#include "framework/hooks/hook_sites.h"
#include "framework/util/error.h"

namespace sinklab::catch_tag_release {
namespace {

using checkpoint::ResolvedModel;
namespace stage_names = checkpoint::stage_names;

// The token vectors [T, d] of one site of one prompt, from a hook stage's output.
at::Tensor token_vectors(const Hdf5File& hooks, const PcaSpec& p, const std::string& prompt) {
  const std::string path = "prompts/" + prompt + "/" + hook_name(int(p.layer), p.site);
  at::Tensor t = hooks.read(path).to(at::kDouble);
  if (p.head < 0) return t;  // [T, d]
  auto heads = std::get<std::vector<std::int64_t>>(*hooks.attr(path, "heads"));
  auto it = std::find(heads.begin(), heads.end(), p.head);
  SINKLAB_CHECK(it != heads.end(), "{} lacks head {}", path, p.head);
  return t.select(1, it - heads.begin());  // [T, head, d] -> [T, d]
}

at::Tensor fit_rows(const at::Tensor& x, bool exclude_first) {
  return exclude_first && x.size(0) > 1 ? x.narrow(0, 1, x.size(0) - 1) : x;
}

class PcaStage : public Stage {
 public:
  PcaStage(std::vector<PcaSpec> pca, std::vector<ResolvedModel> models) : pca_(std::move(pca)), models_(std::move(models)) {}
  std::string name() const override { return stage_names::pca; }
  int version() const override { return 1; }
  nlohmann::ordered_json reads() const override { return {{"pca", encode_value(pca_)}}; }
  std::vector<std::string> upstream() const override {
    std::vector<std::string> out;
    for (const auto& m : models_) out.push_back(stage_names::hook(m.variant));
    return out;
  }

  void run(StageContext& ctx) const override {
    auto& out = ctx.output();
    for (const auto& p : pca_) {
      const std::string group = p.display_name();
      std::vector<at::Tensor> fit_data, shown;
      for (const auto& m : models_) {
        const Hdf5File& hooks = ctx.input(stage_names::hook(m.variant));
        fit_data.push_back(fit_rows(token_vectors(hooks, p, p.fit_prompt), p.exclude_first));
        shown.push_back(token_vectors(hooks, p, p.prompt));
      }
      std::vector<PcaFit> fits;
      if (p.joint) fits.assign(models_.size(), fit_pca(at::cat(fit_data, 0), p.components));
      else
        for (const auto& x : fit_data) fits.push_back(fit_pca(x, p.components));
      std::vector<at::Tensor> projections, ranged;
      for (std::size_t v = 0; v < models_.size(); ++v) {
        projections.push_back(pca_project(fits[v], shown[v]));
        ranged.push_back(fit_rows(projections.back(), p.exclude_first));
      }
      for (std::size_t v = 0; v < models_.size(); ++v) {
        // The colour range: over every variant when fitted jointly (one scale), else per variant.
        at::Tensor range = p.joint ? pca_range(ranged) : pca_range({ranged[v]});
        const std::string g = group + "/" + models_[v].variant;
        auto m = [](const std::string& s) { return Attrs{{"meaning", s}}; };
        out.write(g + "/components", fits[v].components, m("principal directions, unit rows, [k, d]"));
        out.write(g + "/mean", fits[v].mean, m("mean subtracted before projecting, [d]"));
        out.write(g + "/explained_variance", fits[v].explained_variance, m("covariance eigenvalues, [k]"));
        out.write(g + "/explained_ratio", fits[v].explained_ratio, m("share of the total variance, [k]"));
        out.write(g + "/projection", projections[v], m("coordinates of each token of the prompt, [T, k]"));
        out.write(g + "/range", range, m("per-component min (row 0) and max (row 1) mapped to 0 and 255, [2, k]"));
        out.write(g + "/rgb", pca_rgb(projections[v], range), m("colour of each token, [T, 3] uint8"));
      }
      out.set_attr(group, "site", hook_name(int(p.layer), p.site));
      out.set_attr(group, "layer", p.layer);
      out.set_attr(group, "head", p.head);
      out.set_attr(group, "prompt", p.prompt);
      out.set_attr(group, "fit_prompt", p.fit_prompt);
      out.set_attr(group, "joint", std::int64_t(p.joint));
      out.set_attr(group, "exclude_first", std::int64_t(p.exclude_first));
    }
  }

 private:
  std::vector<PcaSpec> pca_;
  std::vector<ResolvedModel> models_;
};

}  // namespace

std::unique_ptr<Stage> make_pca_stage(const std::vector<PcaSpec>& pca, const std::vector<ResolvedModel>& models) {
  return std::make_unique<PcaStage>(pca, models);
}

}  // namespace sinklab::catch_tag_release
