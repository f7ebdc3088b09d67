#pragma once
// Figure panels of the catch-tag-release experiment that other experiments draw too (the
// learned toys of Section 4 get the same sink maps and PCA strips as real models).
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "framework/plot/figures.h"

namespace sinklab::catch_tag_release {

// A layers x heads map of sink scores on [0, 1]; `layers` labels the rows.
plot::Heatmap sink_panel(const at::Tensor& values, const std::vector<std::int64_t>& layers, const std::string& title);

// The two sink maps of one model: alpha_0 (first token) and the strongest later sink
// (max over k > 0), from sink scores [L, H, T] (NaN where unscored).
std::vector<plot::Heatmap> sink_panels(const at::Tensor& sink_scores, const std::vector<std::int64_t>& layers,
                                       const std::string& title_prefix);

// A PCA-coloured strip: tokens with their RGB [T, 3] uint8 colours; `mute_first` greys token 0.
plot::TokenStrip pca_strip(const std::vector<std::string>& tokens, const at::Tensor& rgb, bool mute_first,
                           const std::string& title);

}  // namespace sinklab::catch_tag_release
