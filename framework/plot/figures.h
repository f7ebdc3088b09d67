#pragma once
// Figure specifications. Each render_* writes `<stem>.png` and `<stem>.svg`.
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
};

void render_line_plot(const LinePlot& plot, const std::string& stem);
void render_heatmap(const Heatmap& map, const std::string& stem);
// Several panels on one sheet, `cols` per row, with an overall title.
void render_line_plot_grid(const std::vector<LinePlot>& plots, int cols, const std::string& title, const std::string& stem);
void render_heatmap_grid(const std::vector<Heatmap>& maps, int cols, const std::string& title, const std::string& stem);

}  // namespace sinklab::plot
