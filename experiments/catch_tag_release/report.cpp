// Figures and headline numbers of the catch-tag-release experiment, read back from run.h5 only
// (so an archived run re-renders without the model). Variants are always side by side with one
// colour scale.
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "experiments/catch_tag_release/experiment.h"
#include "experiments/catch_tag_release/figures.h"
#include "experiments/catch_tag_release/stages.h"
#include "experiments/evaluation/stages.h"
#include "framework/hooks/hook_points.h"
#include "framework/plot/figures.h"
#include "framework/util/error.h"
#include "framework/util/strings.h"
#include "framework/util/tensors.h"

namespace sinklab::catch_tag_release {
namespace {

using json = nlohmann::ordered_json;

std::vector<std::string> labels_of(const std::vector<std::string>& pieces, std::size_t n) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n && i < pieces.size(); ++i) out.push_back(token_label(pieces[i]));
  return out;
}

// Index of `head` among the heads a hook dataset kept.
std::int64_t head_index(const Hdf5File& run, const std::string& path, std::int64_t head) {
  auto heads = std::get<std::vector<std::int64_t>>(*run.attr(path, "heads"));
  auto it = std::find(heads.begin(), heads.end(), head);
  SINKLAB_CHECK(it != heads.end(), "{} lacks head {}", path, head);
  return it - heads.begin();
}

std::string short_site(const std::string& hook) {
  std::string s = hook.substr(hook.find('.', 7) + 1);
  for (const char* prefix : {"attn.hook_", "ln2.hook_", "hook_"})
    if (s.rfind(prefix, 0) == 0) return s.substr(std::string(prefix).size());
  return s;
}

std::string site_title(const std::string& hook, std::int64_t layer, std::int64_t head) {
  static const std::map<std::string, std::string> what{
      {"pattern", "attention"}, {"attn_scores", "attention scores"}, {"result", "output of attention"},
      {"z", "attention-weighted values of"}, {"q", "queries of"}, {"k", "keys of"}, {"v", "values of"},
      {"normalized", "FFN input,"}, {"resid_pre", "residual stream entering"}, {"resid_mid", "residual stream after attention,"},
      {"resid_post", "residual stream after"}, {"attn_out", "attention output,"}, {"mlp_out", "MLP output,"}};
  auto s = short_site(hook);
  auto it = what.find(s);
  return fmt::format("{} layer {}{}", it == what.end() ? s : it->second, layer,
                     head >= 0 ? fmt::format(" head {}", head) : "");
}

}  // namespace

void CatchTagReleaseExperiment::report(const Hdf5File& run, const std::string& dir, json& summary) const {
  json& js = summary["catch_tag_release"];
  js["model"] = models_.front().display_name;
  js["indices"] = "layers, heads and positions are 0-based";
  js["variants"] = json::array();
  for (const auto& m : models_) js["variants"].push_back(m.variant);
  // Pruned variants: what was removed (the numbers behind "which methods kept which sinks").
  for (const auto& m : models_) {
    const std::string stage = "/prune." + m.variant;
    if (!run.has(stage)) continue;
    js["pruning"][m.variant] = {
        {"method", config_.variants.at(m.variant).prune->method},
        {"sparsity", std::get<double>(*run.attr(stage, "sparsity"))},
        {"parameter_fraction", std::get<double>(*run.attr(stage, "parameter_fraction"))},
        {"seconds", to_doubles(run.read(stage + "/block_seconds"))}};
    // Reconstruction error ||W - W'||_F / ||W||_F over the pruned matrices (sweeps plot these).
    const auto error = to_doubles(run.read(stage + "/matrices/relative_error"));
    if (!error.empty()) {
      double sum = 0, max = 0;
      for (double e : error) sum += e, max = std::max(max, e);
      js["pruning"][m.variant]["relative_error_mean"] = sum / double(error.size());
      js["pruning"][m.variant]["relative_error_max"] = max;
    }
  }
  const int max_tokens = config_.figures.max_tokens;
  auto panel_title = [&](const ResolvedModel& m, const std::string& what) {
    return fmt::format("{} | {} | {}", m.display_name, m.variant, what);
  };
  auto crop_note = [&](std::int64_t T) {
    return T > max_tokens ? fmt::format("first {} of {} tokens shown (figures.max_tokens)", max_tokens, T) : "";
  };

  // ---- probes: attention maps and activation plots ------------------------------------------
  const std::string first_hook = "/" + hook_stage_name(models_.front().variant);
  for (const auto& probe : config_.probes) {
    if (!probe.plot) continue;
    const std::int64_t depth = std::get<std::int64_t>(*run.attr(first_hook, "layers"));
    std::vector<std::int64_t> layers = probe.layers;
    if (layers.empty())
      for (std::int64_t l = 0; l < depth; ++l) layers.push_back(l);
    for (const auto& prompt : config_.prompts) {
      if (!probe.prompts.empty() && std::find(probe.prompts.begin(), probe.prompts.end(), prompt.id) == probe.prompts.end())
        continue;
      const std::string pg = "/prompts/" + prompt.id;
      for (auto layer : layers) {
        const std::string hook = hook_name(int(layer), probe.site);
        const std::string path0 = first_hook + pg + "/" + hook;
        std::vector<std::int64_t> heads = probe.heads;
        if (heads.empty() && is_per_head_site(probe.site))
          heads = std::get<std::vector<std::int64_t>>(*run.attr(path0, "heads"));
        if (heads.empty()) heads.push_back(-1);
        for (auto head : heads) {
          std::vector<at::Tensor> data;  // per variant [T, T] or [T, d]
          std::vector<std::string> pieces;
          for (const auto& m : models_) {
            const std::string base = "/" + hook_stage_name(m.variant) + pg;
            const std::string path = base + "/" + hook;
            at::Tensor t = run.read(path);
            if (head >= 0) t = is_attention_map_site(probe.site) ? t[head_index(run, path, head)]
                                                                 : t.select(1, head_index(run, path, head));
            data.push_back(t);
            pieces = run.read_strings(base + "/tokens");
          }
          const std::int64_t T = data.front().size(0), n = std::min<std::int64_t>(T, max_tokens);
          auto labels = labels_of(pieces, std::size_t(n));
          const std::string where = site_title(hook, layer, head) + " (0-based)";
          std::vector<plot::Heatmap> maps;
          std::string stem;
          if (is_attention_map_site(probe.site)) {
            const bool probs = short_site(hook) == "pattern";
            double hi = probs ? 0.0 : -INFINITY, lo = probs ? 0.0 : INFINITY;
            for (auto& d : data) {
              d = d.narrow(0, 0, n).narrow(1, 0, n).to(at::kDouble);
              auto visible = d.masked_select(at::ones({n, n}, at::kBool).tril());
              hi = std::max(hi, visible.max().item<double>());
              if (!probs) lo = std::min(lo, visible.min().item<double>());
            }
            for (std::size_t v = 0; v < models_.size(); ++v) {
              plot::Heatmap h;
              h.title = panel_title(models_[v], where);
              h.note = crop_note(T);
              h.x_label = "key token";
              h.y_label = "query token";
              h.colorbar_label = probs ? "attention probability" : "attention score";
              h.rows = h.cols = int(n);
              h.values = to_doubles(data[v]);
              h.row_labels = h.col_labels = labels;
              h.causal = true;
              h.vmin = lo;
              h.vmax = hi;
              h.cell = std::clamp(1000.0 / double(n), 9.0, 22.0);
              maps.push_back(std::move(h));
            }
            stem = fmt::format("{}_{}_L{}_H{}", probs ? "attention" : "attn_scores", prompt.id, layer, head);
          } else {
            // The dimensions with the largest |x| over every variant, in index order.
            auto peak = at::zeros({data.front().size(1)}, at::kDouble);
            for (auto& d : data) {
              d = d.narrow(0, 0, n).to(at::kDouble).abs();
              peak = at::maximum(peak, std::get<0>(d.max(0)));
            }
            const std::int64_t k = std::min<std::int64_t>(config_.figures.activation_dims, peak.size(0));
            auto dims = std::get<0>(std::get<1>(peak.topk(k)).sort());
            double hi = 0;
            for (auto& d : data) {
              d = d.index_select(1, dims);
              hi = std::max(hi, d.max().item<double>());
            }
            std::vector<std::string> dim_labels;
            for (auto d : to_int64s(dims)) dim_labels.push_back(std::to_string(d));
            for (std::size_t v = 0; v < models_.size(); ++v) {
              plot::Heatmap h;
              h.title = panel_title(models_[v], where);
              h.note = fmt::format("the {} dimensions with the largest |x|{}", k, T > n ? "; " + crop_note(T) : "");
              h.x_label = "dimension";
              h.y_label = "token";
              h.colorbar_label = "|activation|";
              h.rows = int(n);
              h.cols = int(k);
              h.values = to_doubles(data[v]);
              h.row_labels = labels;
              h.col_labels = dim_labels;
              h.vmin = 0.0;
              h.vmax = hi;
              h.cell = std::clamp(900.0 / double(std::max(n, k)), 9.0, 22.0);
              maps.push_back(std::move(h));
            }
            stem = fmt::format("{}_{}_L{}{}", short_site(hook), prompt.id, layer, head >= 0 ? fmt::format("_H{}", head) : "");
          }
          plot::render_heatmap_grid(maps, int(std::min<std::size_t>(maps.size(), 2)),
                                    fmt::format("{}, prompt '{}'", where, prompt.id), dir + "/" + stem);
        }
      }
    }
  }

  // ---- PCA colourings ---------------------------------------------------------------------
  if (!config_.pca.empty()) {
    json& pj = js["pca"];
    for (const auto& p : config_.pca) {
      const std::string group = "/" + std::string(kPcaStage) + "/" + p.display_name();
      const std::string hook = hook_name(int(p.layer), p.site);
      std::vector<plot::TokenStrip> panels;
      for (const auto& m : models_) {
        const std::string g = group + "/" + m.variant;
        auto ratio = to_doubles(run.read(g + "/explained_ratio"));
        plot::TokenStrip s = pca_strip(run.read_strings("/" + hook_stage_name(m.variant) + "/prompts/" + p.prompt + "/tokens"),
                                       run.read(g + "/rgb"), p.exclude_first, "");
        std::vector<std::string> shares;
        for (double r : ratio) shares.push_back(fmt::format("{:.0f}%", 100 * r));
        s.title = panel_title(m, fmt::format("{} (0-based) | variance explained {}", site_title(hook, p.layer, p.head),
                                             join(shares, ", ")));
        pj[p.display_name()][m.variant] = {{"explained_ratio", ratio}};
        panels.push_back(std::move(s));
      }
      std::string note = fmt::format("top {} principal components as {}, each min-max scaled to 0-255{}{}{}",
                                     p.components, p.components == 3 ? "R, G, B" : "R, G",
                                     p.joint ? " over all variants (fitted jointly)" : " per variant",
                                     p.fit_prompt != p.prompt ? "; fitted on prompt '" + p.fit_prompt + "'" : "",
                                     p.exclude_first ? "; first token (grey) left out of fit and range" : "");
      panels.front().note = note;
      plot::render_token_strips(panels, fmt::format("PCA colouring: {} (0-based), prompt '{}'",
                                                    site_title(hook, p.layer, p.head), p.prompt),
                                dir + "/pca_" + p.display_name());
    }
  }

  // ---- metrics and evaluation -------------------------------------------------------------
  if (config_.metrics) report_metrics(run, dir, js);
  if (config_.eval) evaluation::report(run, models_, *config_.eval, dir, summary);
}

}  // namespace sinklab::catch_tag_release
