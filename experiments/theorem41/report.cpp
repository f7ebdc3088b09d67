// Theorem 4.1 figures and headline numbers, read back from run.h5 (so an archived run can be
// re-rendered without recomputing anything).
#include <ATen/ATen.h>

#include "experiments/theorem41/experiment.h"
#include "framework/plot/figures.h"
#include "framework/util/strings.h"

namespace sinklab::theorem41 {

static std::vector<double> as_vector(const at::Tensor& t) {
  auto c = t.to(at::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

void Theorem41Experiment::report(const RunView& run, const std::string& figures_dir,
                                 nlohmann::ordered_json& summary) const {
  const std::string sweep = "/theorem41.sweep/", example = "/theorem41.example/";
  auto s_tag = as_vector(run.read(sweep + "s_tag"));
  auto err_mean = as_vector(run.read(sweep + "error_mean")), err_max = as_vector(run.read(sweep + "error_max"));

  plot::LinePlot err;
  err.title = "Theorem 4.1: error of f(x) vs s_tag";
  err.x_label = "s_tag";
  err.y_label = "|f(x) - mean(x_{t+1..T})|";
  err.log_y = true;
  err.series = {{"mean over sequences", s_tag, err_mean}, {"max over sequences", s_tag, err_max}};
  plot::render_line_plot(err, figures_dir + "/theorem41_error_vs_stag");

  plot::LinePlot mech;
  mech.title = "Theorem 4.1: catch, release and retrieval vs s_tag";
  mech.x_label = "s_tag";
  mech.y_label = "attention mass";
  auto catch_mass = as_vector(run.read(sweep + "catch_mass_mean"));
  auto rel_after = as_vector(run.read(sweep + "release_after"));
  mech.series = {{"catch: A1[i, t], i > t", s_tag, catch_mass},
                 {"retrieve: A2[T, j > t]", s_tag, rel_after},
                 {"A2[T, j < t]", s_tag, as_vector(run.read(sweep + "release_before"))},
                 {"A2[T, t]", s_tag, as_vector(run.read(sweep + "release_sep"))}};
  plot::render_line_plot(mech, figures_dir + "/theorem41_mechanism_vs_stag");

  auto A1 = run.read(example + "A1");
  auto labels_attr = run.attr(example + "x", "token_labels");
  auto labels = labels_attr ? split(attr_to_string(*labels_attr), ',') : std::vector<std::string>{};
  double example_s_tag = std::get<double>(run.attr(example + "A1", "s_tag").value_or(0.0));
  plot::Heatmap map;
  map.title = fmt::format("Layer-1 attention A1, s_tag = {:g} (paper Fig. 6)", example_s_tag);
  map.x_label = "key";
  map.y_label = "query";
  map.colorbar_label = "attention probability";
  map.rows = int(A1.size(0));
  map.cols = int(A1.size(1));
  map.values = as_vector(A1);
  map.causal = true;  // masked (future) keys are drawn grey, not as zero probability
  map.row_labels = map.col_labels = labels;
  map.vmin = 0.0;
  map.vmax = 1.0;
  plot::render_heatmap(map, figures_dir + "/theorem41_layer1_attention");

  std::size_t last = s_tag.size() - 1;
  summary["theorem41"] = {
      {"s_tag_max", s_tag[last]},
      {"error_mean", err_mean[last]},
      {"error_max", err_max[last]},
      {"catch_mass_mean", catch_mass[last]},
      {"tag_after_mean", as_vector(run.read(sweep + "tag_after_mean"))[last]},
      {"tag_before_mean", as_vector(run.read(sweep + "tag_before_mean"))[last]},
      {"outlier_dim", run.read(sweep + "outlier_dim")[int64_t(last)].item<int64_t>()},
      {"release_after", rel_after[last]},
      {"uniform_max_dev", as_vector(run.read(sweep + "uniform_max_dev"))[last]},
      {"example_f", run.read(example + "f").item<double>()},
      {"example_target", run.read(example + "target").item<double>()}};
}

}  // namespace sinklab::theorem41
