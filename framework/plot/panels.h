#pragma once
// Figure panels that several experiments draw (real models and the learned toys get the same
// sink maps and PCA strips), and the token labels every token axis uses.
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "framework/plot/figures.h"

namespace sinklab::plot {

// A short label for a token in figures: the piece, whitespace made visible, cut to `max_chars`.
std::string token_label(const std::string& piece, std::size_t max_chars = 12);
// The labels of the first `n` pieces.
std::vector<std::string> token_labels(const std::vector<std::string>& pieces, std::size_t n);

// A layers x heads map of sink scores on [0, 1]; `layers` labels the rows.
Heatmap sink_panel(const at::Tensor& values, const std::vector<std::int64_t>& layers, const std::string& title);

// The two sink maps of one model: alpha_0 (first token) and the strongest later sink
// (max over k > 0), from sink scores [L, H, T] (NaN where unscored).
std::vector<Heatmap> sink_panels(const at::Tensor& sink_scores, const std::vector<std::int64_t>& layers,
                                 const std::string& title_prefix);

// A PCA-coloured strip: tokens with their RGB [T, 3] uint8 colours; `mute_first` greys token 0.
TokenStrip pca_strip(const std::vector<std::string>& tokens, const at::Tensor& rgb, bool mute_first, const std::string& title);

}  // namespace sinklab::plot
