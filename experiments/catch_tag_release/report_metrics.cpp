// The metrics part of the report: sink heatmaps (layers x heads), activation magnitudes per
// layer, and the numbers behind them in summary.json.
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "experiments/catch_tag_release/part.h"
#include "experiments/checkpoint/stage_names.h"
#include "framework/plot/figures.h"
#include "framework/plot/panels.h"
#include "framework/util/tensors.h"

namespace sinklab::catch_tag_release {

using json = nlohmann::ordered_json;
namespace stage_names = checkpoint::stage_names;

void CatchTagReleasePart::report_metrics(const RunView& run, const checkpoint::Inputs& inputs, const std::string& dir,
                                         json& js) const {
  const MetricsSpec& ms = *config_.metrics;
  const double eps = ms.sink_epsilon;
  json& mj = js["metrics"];
  mj["sink_epsilon"] = eps;
  for (const auto& m : inputs.models) {
    const std::string base = "/" + stage_names::metrics(m.variant);
    auto layers = to_int64s(run.read(base + "/layers"));
    json& vj = mj[m.variant];
    double first_sum = 0, later_sum = 0;
    int prompts = 0;
    struct Sink {
      double alpha;
      std::string prompt, token;
      std::int64_t layer, head, position;
    };
    std::vector<Sink> later;
    for (const auto& prompt : run.children(base + "/prompts")) {
      const std::string g = base + "/prompts/" + prompt;
      auto alpha = run.read(g + "/sink_scores").to(at::kDouble);  // [L, H, T]
      auto tokens = run.read_strings(g + "/tokens");
      auto a0 = alpha.select(2, 0);
      first_sum += a0.gt(eps).to(at::kDouble).mean().item<double>();
      auto rest = alpha.narrow(2, 1, alpha.size(2) - 1).nan_to_num(-1.0);  // [L, H, T-1]
      auto best = rest.max(2);
      later_sum += std::get<0>(best).gt(eps).to(at::kDouble).mean().item<double>();
      ++prompts;
      auto best_alpha = to_doubles(std::get<0>(best)), best_pos = to_doubles(std::get<1>(best));
      const std::int64_t H = alpha.size(1);
      for (std::size_t i = 0; i < best_alpha.size(); ++i)
        if (best_alpha[i] > eps) {
          std::int64_t pos = std::int64_t(best_pos[i]) + 1;
          later.push_back({best_alpha[i], prompt, plot::token_label(tokens.at(std::size_t(pos)), 24),
                           layers[i / std::size_t(H)], std::int64_t(i % std::size_t(H)), pos});
        }
      // Activations.
      json& pj = vj["prompts"][prompt];
      auto top = run.read(g + "/top_activation");  // [L, 3]
      auto abs_max = to_doubles(run.read(g + "/abs_max"));
      std::size_t li = std::max_element(abs_max.begin(), abs_max.end()) - abs_max.begin();
      auto row = to_doubles(top[std::int64_t(li)]);
      pj["largest_activation"] = {{"layer", layers[li]}, {"position", std::int64_t(row[0])},
                                  {"token", plot::token_label(tokens.at(std::size_t(row[0])), 24)},
                                  {"dimension", std::int64_t(row[1])}, {"value", row[2]},
                                  {"median_abs", to_doubles(run.read(g + "/abs_median"))[li]}};
      auto massive = run.read(g + "/massive_activations");  // [N, 4]
      pj["massive_activations"] = {{"count", massive.size(0)}, {"largest", json::array()}};
      for (std::int64_t i = 0; i < std::min<std::int64_t>(massive.size(0), 5); ++i) {
        auto r = to_doubles(massive[i]);
        pj["massive_activations"]["largest"].push_back(
            {{"layer", std::int64_t(r[0])}, {"position", std::int64_t(r[1])},
             {"token", plot::token_label(tokens.at(std::size_t(r[1])), 24)}, {"dimension", std::int64_t(r[2])}, {"value", r[3]}});
      }
      auto scores = run.read(g + "/outlier_scores");  // [L, D]
      json outliers = json::object();
      for (std::size_t l = 0; l < layers.size(); ++l) {
        auto dims = to_int64s(scores[std::int64_t(l)].ge(ms.outlier_ratio).nonzero().view({-1}));
        if (!dims.empty()) outliers[std::to_string(layers[l])] = dims;
      }
      pj["outlier_dimensions_by_layer"] = outliers;
    }
    vj["fraction_heads_first_token_sink"] = prompts ? first_sum / prompts : 0.0;
    vj["fraction_heads_later_sink"] = prompts ? later_sum / prompts : 0.0;
    std::sort(later.begin(), later.end(), [](const Sink& a, const Sink& b) { return a.alpha > b.alpha; });
    vj["strongest_later_sinks"] = json::array();
    for (std::size_t i = 0; i < std::min<std::size_t>(later.size(), 8); ++i)
      vj["strongest_later_sinks"].push_back({{"prompt", later[i].prompt}, {"layer", later[i].layer},
                                             {"head", later[i].head}, {"position", later[i].position},
                                             {"token", later[i].token}, {"alpha", later[i].alpha}});
    if (run.has(base + "/qk_effective_rank")) {
      vj["head_dim"] = run.read(base + "/qk_singular_values").size(2);
      vj["qk_effective_rank_mean_by_layer"] = to_doubles(run.read(base + "/qk_effective_rank").mean(1));
      vj["v_effective_rank_mean_by_layer"] = to_doubles(run.read(base + "/v_effective_rank").mean(1));
    }
  }

  // Figures, per prompt, variants side by side.
  const std::string base0 = "/" + stage_names::metrics(inputs.models.front().variant);
  for (const auto& prompt : run.children(base0 + "/prompts")) {
    std::vector<plot::Heatmap> maps;
    plot::LinePlot mags;
    mags.title = fmt::format("Residual stream magnitude per layer, prompt '{}'", prompt);
    mags.x_label = "layer (0-based)";
    mags.y_label = "|activation| of resid_post";
    mags.log_y = true;
    for (const auto& m : inputs.models) {
      const std::string base = "/" + stage_names::metrics(m.variant), g = base + "/prompts/" + prompt;
      auto layers = to_int64s(run.read(base + "/layers"));
      for (auto& panel : plot::sink_panels(run.read(g + "/sink_scores"), layers, fmt::format("{} | {} | ", m.display_name, m.variant)))
        maps.push_back(std::move(panel));
      std::vector<double> x(layers.begin(), layers.end());
      mags.series.push_back({"max, " + m.variant, x, to_doubles(run.read(g + "/abs_max"))});
      mags.series.push_back({"median, " + m.variant, x, to_doubles(run.read(g + "/abs_median"))});
    }
    plot::render_heatmap_grid(maps, 2, fmt::format("Sink scores (Gu et al.; sink when alpha > {:g}), prompt '{}'", eps, prompt),
                              dir + "/sinks_" + prompt);
    plot::render_line_plot(mags, dir + "/magnitudes_" + prompt);
  }
}

}  // namespace sinklab::catch_tag_release
