// Figures and headline numbers of the learned toys, read back from run.h5.
#include <ATen/ATen.h>

#include <algorithm>

#include "experiments/toy_learned/experiment.h"
#include "framework/analysis/pca.h"
#include "framework/analysis/sinks.h"
#include "framework/plot/figures.h"
#include "framework/plot/panels.h"
#include "framework/util/strings.h"

namespace sinklab::toy_learned {
namespace {

std::vector<double> vec(const at::Tensor& t) {
  auto c = t.to(at::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

// Every head of every layer of `group`/example/attention_layer{l}, one heatmap each, titled
// `prefix` + "layer l head h".
void add_attention_panels(const RunView& run, const std::string& group, const std::vector<std::string>& labels,
                          const std::string& prefix, std::vector<plot::Heatmap>& maps) {
  for (int l = 0; run.has(group + fmt::format("/example/attention_layer{}", l)); ++l) {
    auto A = run.read(group + fmt::format("/example/attention_layer{}", l));  // [H, T, T]
    for (int64_t h = 0; h < A.size(0); ++h) {
      plot::Heatmap m;
      m.title = fmt::format("{}layer {} head {}", prefix, l, h);
      m.x_label = "key";
      m.y_label = "query";
      m.colorbar_label = "attention";
      m.rows = m.cols = int(A.size(1));
      m.values = vec(A[h]);
      m.causal = true;
      m.row_labels = m.col_labels = labels;
      m.vmin = 0.0;
      m.vmax = 1.0;
      maps.push_back(std::move(m));
    }
  }
}

// The final values that say whether a run found the mechanism.
struct FinalMeasures {
  double heldout_mse, baseline_mse, catch_mass, catch_any_head, tag_ratio, release_after, release_kl, qk_energy_top1, qk_rank;
  std::int64_t tag_dim, catch_head, release_head, seconds_per_step_us;
};

FinalMeasures final_measures(const RunView& run, const std::string& train, const std::string& measure) {
  FinalMeasures f{};
  auto last = [](const at::Tensor& t) { return t[t.size(0) - 1]; };
  f.heldout_mse = last(run.read(train + "/heldout_mse")).item<double>();
  f.baseline_mse = run.read(train + "/baseline_mse").item<double>();
  auto catch_l0 = last(run.read(measure + "/catch_mass"))[0];  // [heads] of layer 1
  f.catch_head = catch_l0.argmax().item<std::int64_t>();
  f.catch_mass = catch_l0.max().item<double>();
  f.catch_any_head = last(run.read(measure + "/catch_any_head"))[0].item<double>();
  f.tag_dim = last(run.read(measure + "/tag_dim")).item<std::int64_t>();
  f.tag_ratio = last(run.read(measure + "/tag_ratio")).item<double>();
  auto kl = last(run.read(measure + "/release_kl"));  // [heads]
  f.release_head = kl.argmin().item<std::int64_t>();
  f.release_kl = kl.min().item<double>();
  f.release_after = last(run.read(measure + "/release_mass"))[f.release_head][2].item<double>();
  // W_QK of the retrieving head: layer 2 (index 1) in the wide model, the only one in the 2-d model.
  auto names = split(attr_to_string(*run.attr(measure + "/qk_singular_values", "matrices")), ',');
  std::string wanted = names.size() == 1 ? names[0] : fmt::format("layer1.head{}.W_QK", f.release_head);
  auto idx = std::find(names.begin(), names.end(), wanted) - names.begin();
  f.qk_energy_top1 = last(run.read(measure + "/qk_energy_top1"))[idx].item<double>();
  f.qk_rank = last(run.read(measure + "/qk_effective_rank"))[idx].item<double>();
  f.seconds_per_step_us = std::int64_t(1e6 * std::get<double>(*run.attr(train, "seconds_per_step")));
  return f;
}

void render_model(const RunView& run, const std::string& model, const std::string& train, const std::string& measure,
                  const FinalMeasures& f, const std::string& figures_dir) {
  auto steps = vec(run.read(measure + "/checkpoint_steps"));
  std::vector<double> every_step;
  auto loss = vec(run.read(train + "/loss"));
  for (std::size_t i = 0; i < loss.size(); ++i) every_step.push_back(double(i));
  std::vector<double> baseline(steps.size(), f.baseline_mse);
  auto catch_mass = run.read(measure + "/catch_mass");                          // [C, L, H]
  auto release = run.read(measure + "/release_mass").select(1, f.release_head);  // [C, 3]
  auto names = split(attr_to_string(*run.attr(measure + "/qk_singular_values", "matrices")), ',');
  std::string wanted = names.size() == 1 ? names[0] : fmt::format("layer1.head{}.W_QK", f.release_head);
  auto qk = std::find(names.begin(), names.end(), wanted) - names.begin();

  std::vector<plot::LinePlot> panels(6);
  panels[0] = {"loss", "step", "MSE", false, true,
               {{"train (per step)", every_step, loss, false},
                {"held-out", steps, vec(run.read(train + "/heldout_mse"))},
                {"baseline: mean of all", steps, baseline, false}}};
  panels[1] = {"catch: layer-1 attention of tokens after [SEP] on it", "step", "mass", false, false,
               {{fmt::format("head {}", f.catch_head), steps, vec(catch_mass.select(1, 0).select(1, f.catch_head))},
                {"best head per token", steps, vec(run.read(measure + "/catch_any_head").select(1, 0))}}};
  panels[2] = {"tag: |h| after layer 1, after / before [SEP]", "step", "largest ratio", false, true,
               {{"outlier dimension", steps, vec(run.read(measure + "/tag_ratio"))}}};
  panels[3] = {fmt::format("release: layer-2 attention of token T (head {})", f.release_head), "step", "mass", false,
               false,
               {{"j > t", steps, vec(release.select(1, 2))},
                {"j = t", steps, vec(release.select(1, 1))},
                {"j < t", steps, vec(release.select(1, 0))}}};
  panels[4] = {"low rank: " + wanted, "step", "energy in the top singular value", false, false,
               {{"s1^2 / sum s^2", steps, vec(run.read(measure + "/qk_energy_top1").select(1, qk))}}};
  panels[5] = {"low rank: " + wanted, "step", "effective rank", false, false,
               {{"exp(entropy of s / sum s)", steps, vec(run.read(measure + "/qk_effective_rank").select(1, qk))}}};
  plot::render_line_plot_grid(panels, 3, "Emergence of catch, tag and release: " + model,
                              figures_dir + "/toy_learned_" + model + "_emergence");

  auto labels = split(attr_to_string(*run.attr(measure + "/example/x", "token_labels")), ',');
  std::vector<plot::Heatmap> maps;
  add_attention_panels(run, measure, labels, "", maps);
  int cols = int(maps.size() / 2);  // one row per layer for two-layer models
  plot::render_heatmap_grid(maps, std::max(1, std::min(cols, 4)), "Attention of the trained " + model + " (0-based layers)",
                            figures_dir + "/toy_learned_" + model + "_attention");

  // The figures real models get (catch_tag_release): sink maps and PCA colourings of the
  // residual stream after each layer. With [SEP] at position t the catching layer shows a later
  // sink at t, and the tag makes the tokens after [SEP] one colour.
  std::vector<at::Tensor> sinks;
  std::vector<std::int64_t> layer_ids;
  std::vector<plot::TokenStrip> strips;
  for (int l = 0; run.has(measure + fmt::format("/example/attention_layer{}", l)); ++l) {
    sinks.push_back(sink_scores(run.read(measure + fmt::format("/example/attention_layer{}", l)), /*min_queries=*/4));
    layer_ids.push_back(l);
    const std::string resid = measure + fmt::format("/example/resid_layer{}", l);
    if (!run.has(resid)) continue;
    auto x = run.read(resid);  // [T, d]
    const int k = int(std::min<std::int64_t>({3, x.size(1), x.size(0) - 1}));
    auto fit = fit_pca(x, k);
    auto proj = pca_project(fit, x);
    std::vector<std::string> shares;
    for (double r : vec(fit.explained_ratio)) shares.push_back(fmt::format("{:.0f}%", 100 * r));
    strips.push_back(plot::pca_strip(
        labels, pca_rgb(proj, pca_range({proj})), false,
        fmt::format("residual stream after layer {} (0-based) | variance explained {}", l, join(shares, ", "))));
  }
  auto panels_h = plot::sink_panels(at::stack(sinks), layer_ids, "");
  plot::render_heatmap_grid(panels_h, 2, "Sink scores of the trained " + model + " on the example sequence",
                            figures_dir + "/toy_learned_" + model + "_sinks");
  if (!strips.empty()) {
    strips.front().note = "top principal components as R, G(, B), min-max scaled to 0-255 over the sequence";
    plot::render_token_strips(strips, "PCA colouring of the trained " + model + " (tag: tokens after [SEP] share a colour)",
                              figures_dir + "/toy_learned_" + model + "_pca");
  }

  plot::LinePlot spectra{"Singular values at the end of training: " + model, "index", "singular value", false, true, {}};
  for (const char* kind : {"qk", "v"}) {
    auto sv = run.read(measure + "/" + kind + "_singular_values");  // [C, matrix, k]
    auto final_sv = sv[sv.size(0) - 1];
    auto mats = split(attr_to_string(*run.attr(measure + "/" + kind + "_singular_values", "matrices")), ',');
    for (int64_t r = 0; r < final_sv.size(0); ++r) {
      std::vector<double> idx, val;
      for (int64_t k = 0; k < final_sv.size(1); ++k) idx.push_back(double(k + 1)), val.push_back(final_sv[r][k].item<double>());
      spectra.series.push_back({mats[r], idx, val});
    }
  }
  if (spectra.series.size() > 10) spectra.series.resize(10);  // the legend stays readable
  plot::render_line_plot(spectra, figures_dir + "/toy_learned_" + model + "_spectra");
}

}  // namespace

// Pruned toys: catch, tag and release measured again per method, and the attention of every
// variant side by side (first seed).
void ToyLearnedExperiment::report_pruning(const RunView& run, const std::string& model, const std::string& figures_dir,
                                          nlohmann::ordered_json& summary) const {
  nlohmann::ordered_json& out = summary["toy_learned_pruning"][model];
  for (auto seed : config_.seeds) {
    const std::string measure = "/" + stage_name(model, seed, "measure");
    auto last = [](const at::Tensor& t) { return t[t.size(0) - 1]; };
    nlohmann::ordered_json row{{"seed", seed},
                               {"dense", {{"catch_any_head", last(run.read(measure + "/catch_any_head"))[0].item<double>()},
                                          {"tag_ratio", last(run.read(measure + "/tag_ratio")).item<double>()},
                                          {"release_kl", last(run.read(measure + "/release_kl")).min().item<double>()}}}};
    for (const auto& [variant, prune] : config_.prune) {
      const std::string g = "/" + prune_stage_name(model, seed, variant);
      row[variant] = {{"method", prune.method},
                      {"sparsity", std::get<double>(*run.attr(g, "sparsity"))},
                      {"parameter_fraction", std::get<double>(*run.attr(g, "parameter_fraction"))},
                      {"heldout_mse", run.read(g + "/heldout_mse").item<double>()},
                      {"catch_any_head", run.read(g + "/catch_any_head")[0].item<double>()},
                      {"tag_ratio", run.read(g + "/tag_ratio").item<double>()},
                      {"release_kl", run.read(g + "/release_kl").min().item<double>()}};
    }
    out.push_back(row);
  }
  const auto seed = config_.seeds.front();
  const std::string measure = "/" + stage_name(model, seed, "measure");
  auto labels = split(attr_to_string(*run.attr(measure + "/example/x", "token_labels")), ',');
  std::vector<plot::Heatmap> maps;
  add_attention_panels(run, measure, labels, "dense | ", maps);
  for (const auto& [variant, prune] : config_.prune)
    add_attention_panels(run, "/" + prune_stage_name(model, seed, variant), labels, variant + " | ", maps);
  const int per_variant = int(maps.size() / (config_.prune.size() + 1));
  plot::render_heatmap_grid(maps, per_variant, "Attention of the trained " + model + ": dense and pruned (0-based)",
                            figures_dir + "/toy_learned_" + model + "_pruned_attention");
}

// Interventions on the trained toys: each entry's held-out MSE and catch / tag / release
// measures per seed, and bars of the first seed's against the clean model.
void ToyLearnedExperiment::report_interventions(const RunView& run, const std::string& model,
                                                const std::string& figures_dir, nlohmann::ordered_json& summary) const {
  nlohmann::ordered_json& out = summary["toy_learned_interventions"][model];
  std::vector<plot::BarChart> charts{{"Held-out MSE", "MSE", {}, {}, {}},
                                     {"Catch: largest attention on [SEP] (layer 1)", "attention", {}, {}, {}},
                                     {"Tag: |h| of the clean tag dim after [SEP]", "mean |h_tag|", {}, {}, {}},
                                     {"Release: KL(uniform after [SEP] || last token)", "nats (best head)", {}, {}, {}}};
  for (auto seed : config_.seeds) {
    const std::string g = "/" + stage_name(model, seed, "intervene");
    const std::int64_t tag = std::get<std::int64_t>(*run.attr(g, "tag_dim"));
    nlohmann::ordered_json row{{"seed", seed}, {"tag_dim", tag}};
    for (const auto& e : run.read_strings(g + "/entries")) {
      const std::string eg = g + "/" + e;
      const double values[4] = {run.read(eg + "/heldout_mse").item<double>(), run.read(eg + "/catch_any_head")[0].item<double>(),
                                run.read(eg + "/tag_abs_after")[tag].item<double>(), run.read(eg + "/release_kl").min().item<double>()};
      row["entries"][e] = {{"heldout_mse", values[0]},
                           {"catch_any_head", values[1]},
                           {"tag_abs_after", values[2]},
                           {"tag_ratio", std::get<double>(*run.attr(eg, "tag_ratio"))},
                           {"release_kl", values[3]}};
      if (seed != config_.seeds.front()) continue;
      for (int i = 0; i < 4; ++i) {
        if (e == "clean") charts[std::size_t(i)].reference = values[i];
        charts[std::size_t(i)].labels.push_back(e);
        charts[std::size_t(i)].values.push_back(values[i]);
      }
    }
    out.push_back(row);
  }
  plot::render_bar_chart_grid(charts, 2, fmt::format("Interventions on the trained {} (seed {})", model, config_.seeds.front()),
                              figures_dir + "/toy_learned_" + model + "_interventions");
}

void ToyLearnedExperiment::report(const RunView& run, const std::string& figures_dir,
                                  nlohmann::ordered_json& summary) const {
  nlohmann::ordered_json all;
  for (const auto& [model, spec] : config_.models) {
    nlohmann::ordered_json per_seed = nlohmann::ordered_json::array();
    for (auto seed : config_.seeds) {
      std::string train = "/" + stage_name(model, seed, "train"), measure = "/" + stage_name(model, seed, "measure");
      FinalMeasures f = final_measures(run, train, measure);
      per_seed.push_back({{"seed", seed},
                          {"heldout_mse", f.heldout_mse},
                          {"baseline_mse", f.baseline_mse},
                          {"catch_mass", f.catch_mass},
                          {"catch_any_head", f.catch_any_head},
                          {"tag_dim", f.tag_dim},
                          {"tag_ratio", f.tag_ratio},
                          {"release_after", f.release_after},
                          {"release_kl", f.release_kl},
                          {"qk_energy_top1", f.qk_energy_top1},
                          {"qk_effective_rank", f.qk_rank},
                          {"microseconds_per_step", f.seconds_per_step_us}});
      if (seed == config_.seeds.front()) render_model(run, model, train, measure, f, figures_dir);
    }
    all[model] = per_seed;
    if (!config_.prune.empty() && !spec.model.is_2d()) report_pruning(run, model, figures_dir, summary);
    if (!config_.interventions.empty() && !spec.model.is_2d()) report_interventions(run, model, figures_dir, summary);
  }
  summary["toy_learned"] = all;
}

}  // namespace sinklab::toy_learned
