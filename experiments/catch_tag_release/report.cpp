// Figures and headline numbers of the catch-tag-release part, read back from the run's datasets
// only (so an archived run re-renders without the model). Variants are always side by side with
// one colour scale.
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "experiments/catch_tag_release/part.h"
#include "experiments/checkpoint/stage_names.h"
#include "framework/hooks/hook_sites.h"
#include "framework/plot/figures.h"
#include "framework/plot/panels.h"
#include "framework/util/error.h"
#include "framework/util/strings.h"
#include "framework/util/tensors.h"

namespace sinklab::catch_tag_release {
namespace {

using json = nlohmann::ordered_json;
using checkpoint::ResolvedModel;
namespace stage_names = checkpoint::stage_names;

// Index of `head` among the heads a hook dataset kept.
std::int64_t head_index(const RunView& run, const std::string& path, std::int64_t head) {
  auto heads = std::get<std::vector<std::int64_t>>(*run.attr(path, "heads"));
  auto it = std::find(heads.begin(), heads.end(), head);
  SINKLAB_CHECK(it != heads.end(), "{} lacks head {}", path, head);
  return it - heads.begin();
}

// "attention layer 3 head 6", from the site table's titles.
std::string site_title(const std::string& hook, std::int64_t layer, std::int64_t head) {
  return fmt::format("{} layer {}{}", hook_site(hook).title, layer, head >= 0 ? fmt::format(" head {}", head) : "");
}

std::string panel_title(const ResolvedModel& m, const std::string& what) {
  return fmt::format("{} | {} | {}", m.display_name, m.variant, what);
}

}  // namespace

void CatchTagReleasePart::report_probes(const RunView& run, const checkpoint::Inputs& inputs, const std::string& dir) const {
  const int max_tokens = config_.figures.max_tokens;
  auto crop_note = [&](std::int64_t T) {
    return T > max_tokens ? fmt::format("first {} of {} tokens shown (figures.max_tokens)", max_tokens, T) : "";
  };

  const std::string first_hook = "/" + stage_names::hook(inputs.models.front().variant);
  for (const auto& probe : config_.probes) {
    if (!probe.plot) continue;
    const HookSite& site = hook_site(probe.site);
    const std::int64_t depth = std::get<std::int64_t>(*run.attr(first_hook, "layers"));
    std::vector<std::int64_t> layers = probe.layers;
    if (layers.empty())
      for (std::int64_t l = 0; l < depth; ++l) layers.push_back(l);
    for (const auto& prompt : inputs.prompts) {
      if (!probe.prompts.empty() && std::find(probe.prompts.begin(), probe.prompts.end(), prompt.id) == probe.prompts.end())
        continue;
      const std::string pg = "/prompts/" + prompt.id;
      for (auto layer : layers) {
        const std::string hook = hook_name(int(layer), probe.site);
        const std::string path0 = first_hook + pg + "/" + hook;
        std::vector<std::int64_t> heads = probe.heads;
        if (heads.empty() && site.has_heads())
          heads = std::get<std::vector<std::int64_t>>(*run.attr(path0, "heads"));
        if (heads.empty()) heads.push_back(-1);
        for (auto head : heads) {
          std::vector<at::Tensor> data;  // per variant [T, T] or [T, d]
          std::vector<std::string> pieces;
          for (const auto& m : inputs.models) {
            const std::string base = "/" + stage_names::hook(m.variant) + pg;
            const std::string path = base + "/" + hook;
            at::Tensor t = run.read(path);
            if (head >= 0) t = site.attention_map ? t[head_index(run, path, head)]
                                                                 : t.select(1, head_index(run, path, head));
            data.push_back(t);
            pieces = run.read_strings(base + "/tokens");
          }
          const std::int64_t T = data.front().size(0), n = std::min<std::int64_t>(T, max_tokens);
          auto labels = plot::token_labels(pieces, std::size_t(n));
          const std::string where = site_title(hook, layer, head) + " (0-based)";
          std::vector<plot::Heatmap> maps;
          std::string stem;
          if (site.attention_map) {
            const bool probs = site.short_name == "pattern";
            double hi = probs ? 0.0 : -INFINITY, lo = probs ? 0.0 : INFINITY;
            for (auto& d : data) {
              d = d.narrow(0, 0, n).narrow(1, 0, n).to(at::kDouble);
              auto visible = d.masked_select(at::ones({n, n}, at::kBool).tril());
              hi = std::max(hi, visible.max().item<double>());
              if (!probs) lo = std::min(lo, visible.min().item<double>());
            }
            for (std::size_t v = 0; v < inputs.models.size(); ++v) {
              plot::Heatmap h;
              h.title = panel_title(inputs.models[v], where);
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
            for (std::size_t v = 0; v < inputs.models.size(); ++v) {
              plot::Heatmap h;
              h.title = panel_title(inputs.models[v], where);
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
            stem = fmt::format("{}_{}_L{}{}", site.short_name, prompt.id, layer, head >= 0 ? fmt::format("_H{}", head) : "");
          }
          plot::render_heatmap_grid(maps, int(std::min<std::size_t>(maps.size(), 2)),
                                    fmt::format("{}, prompt '{}'", where, prompt.id), dir + "/" + stem);
        }
      }
    }
  }
}

void CatchTagReleasePart::report_pca(const RunView& run, const checkpoint::Inputs& inputs, const std::string& dir,
                                     json& summary) const {
  json& pj = summary["pca"];
  for (const auto& p : config_.pca) {
    const std::string group = "/" + std::string(stage_names::pca) + "/" + p.display_name();
    const std::string hook = hook_name(int(p.layer), p.site);
    std::vector<plot::TokenStrip> panels;
    for (const auto& m : inputs.models) {
      const std::string g = group + "/" + m.variant;
      auto ratio = to_doubles(run.read(g + "/explained_ratio"));
      auto tokens = run.read_strings("/" + stage_names::hook(m.variant) + "/prompts/" + p.prompt + "/tokens");
      plot::TokenStrip s = plot::pca_strip(tokens,
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

}  // namespace sinklab::catch_tag_release
