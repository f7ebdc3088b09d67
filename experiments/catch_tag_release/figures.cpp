#include "experiments/catch_tag_release/figures.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "framework/util/tensors.h"

namespace sinklab::catch_tag_release {

plot::Heatmap sink_panel(const at::Tensor& values, const std::vector<std::int64_t>& layers, const std::string& title) {
  const std::int64_t L = values.size(0), H = values.size(1);
  plot::Heatmap h;
  h.title = title;
  h.x_label = "head (0-based)";
  h.y_label = "layer (0-based)";
  h.colorbar_label = "sink score alpha";
  h.rows = int(L);
  h.cols = int(H);
  h.values = to_doubles(values);
  for (auto l : layers) h.row_labels.push_back(std::to_string(l));
  for (std::int64_t i = 0; i < H; ++i) h.col_labels.push_back(std::to_string(i));
  h.vmin = 0.0;
  h.vmax = 1.0;
  h.cell = std::clamp(420.0 / double(std::max(L, H)), 9.0, 36.0);
  return h;
}

std::vector<plot::Heatmap> sink_panels(const at::Tensor& sink_scores, const std::vector<std::int64_t>& layers,
                                       const std::string& title_prefix) {
  auto alpha = sink_scores.to(at::kDouble);
  auto later = alpha.narrow(2, 1, alpha.size(2) - 1).nan_to_num(-1.0);
  return {sink_panel(alpha.select(2, 0), layers, title_prefix + "first token, alpha_0"),
          sink_panel(std::get<0>(later.max(2)).clamp_min(0), layers, title_prefix + "strongest later sink, max_k>0 alpha_k")};
}

plot::TokenStrip pca_strip(const std::vector<std::string>& tokens, const at::Tensor& rgb_in, bool mute_first,
                           const std::string& title) {
  plot::TokenStrip s;
  s.title = title;
  s.tokens = tokens;
  auto rgb = rgb_in.to(at::kByte).contiguous();
  const auto* px = rgb.data_ptr<std::uint8_t>();
  for (std::int64_t t = 0; t < rgb.size(0); ++t) s.colors.push_back({px[3 * t], px[3 * t + 1], px[3 * t + 2]});
  if (mute_first) {
    s.muted.assign(s.tokens.size(), false);
    if (!s.muted.empty()) s.muted[0] = true;
  }
  return s;
}

}  // namespace sinklab::catch_tag_release
