#include "framework/plot/panels.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "framework/util/tensors.h"
#include "framework/util/utf8.h"

namespace sinklab::plot {

std::string token_label(const std::string& piece, std::size_t max_chars) {
  std::string out;
  for (char c : piece) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else out += c;
  }
  if (out.empty()) return "\u2205";
  auto chars = utf8::characters(utf8::lossy(out));
  if (chars.size() <= max_chars) return out;
  chars.resize(max_chars - 1);
  std::string cut;
  for (const auto& c : chars) cut += c;
  return cut + "\u2026";
}

std::vector<std::string> token_labels(const std::vector<std::string>& pieces, std::size_t n) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n && i < pieces.size(); ++i) out.push_back(token_label(pieces[i]));
  return out;
}

Heatmap sink_panel(const at::Tensor& values, const std::vector<std::int64_t>& layers, const std::string& title) {
  const std::int64_t L = values.size(0), H = values.size(1);
  Heatmap h;
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

std::vector<Heatmap> sink_panels(const at::Tensor& sink_scores, const std::vector<std::int64_t>& layers,
                                       const std::string& title_prefix) {
  auto alpha = sink_scores.to(at::kDouble);
  auto later = alpha.narrow(2, 1, alpha.size(2) - 1).nan_to_num(-1.0);
  return {sink_panel(alpha.select(2, 0), layers, title_prefix + "first token, alpha_0"),
          sink_panel(std::get<0>(later.max(2)).clamp_min(0), layers, title_prefix + "strongest later sink, max_k>0 alpha_k")};
}

TokenStrip pca_strip(const std::vector<std::string>& tokens, const at::Tensor& rgb_in, bool mute_first,
                           const std::string& title) {
  TokenStrip s;
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

}  // namespace sinklab::plot
