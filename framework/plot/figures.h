#pragma once
// Figure specifications. Each render_* writes `<stem>.png` and `<stem>.svg`.
#include <array>
#include <optional>
#include <string>
#include <vector>

namespace sinklab::plot {

struct Series {
  std::string label;
  std::vector<double> x, y;
  bool markers = true;
};

struct LinePlot {
  std::string title, x_label, y_label;
  bool log_x = false, log_y = false;
  std::vector<Series> series;
};

struct Heatmap {
  std::string title, x_label, y_label, colorbar_label;
  int rows = 0, cols = 0;
  std::vector<double> values;                // row-major, rows * cols; NaN cells are drawn grey
  std::vector<std::string> row_labels, col_labels;  // optional tick labels
  std::optional<double> vmin, vmax;          // colour range; data range when absent
  bool causal = false;  // an attention map: cells above the diagonal (future keys) are drawn grey
  double cell = 0;      // cell side in points; 0 = fit the map into a fixed size
  std::string note;     // a line under the title (e.g. "cropped to the first 160 tokens")
  bool annotate = false;  // write each cell's value in it (small maps: sweep summaries)
};

// A prompt drawn as running text, each token on a background of its own colour (the PCA RGB
// colouring of the paper's Fig. 2c/d). Newline tokens break the line (and show as "\n").
struct TokenStrip {
  std::string title, note;
  std::vector<std::string> tokens;
  std::vector<std::array<unsigned char, 3>> colors;  // one per token
  std::vector<bool> muted;                            // optional: drawn hatched grey (e.g. left out of the fit)
};

// Bars side by side (one per label), e.g. an effect per intervention, with an optional dashed
// reference line across (the clean run's value). NaN values draw no bar and say "n/a".
struct BarChart {
  std::string title, y_label;
  std::vector<std::string> labels;
  std::vector<double> values;
  std::optional<double> reference;
};

void render_line_plot(const LinePlot& plot, const std::string& stem);
void render_bar_chart_grid(const std::vector<BarChart>& charts, int cols, const std::string& title, const std::string& stem);
void render_heatmap(const Heatmap& map, const std::string& stem);
// Several panels on one sheet, `cols` per row, with an overall title.
void render_line_plot_grid(const std::vector<LinePlot>& plots, int cols, const std::string& title, const std::string& stem);
// Panels stacked top to bottom under an overall title; width in points.
void render_token_strips(const std::vector<TokenStrip>& panels, const std::string& title, const std::string& stem,
                         double width = 900);
void render_heatmap_grid(const std::vector<Heatmap>& maps, int cols, const std::string& title, const std::string& stem);

}  // namespace sinklab::plot
