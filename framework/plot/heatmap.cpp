#include <algorithm>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "framework/plot/axis.h"
#include "framework/plot/canvas.h"
#include "framework/plot/colormap.h"
#include "framework/plot/figures.h"
#include "framework/util/error.h"

namespace sinklab::plot {

namespace {

// Widest label in points at font size `fs` (an estimate: labels are short and mostly ASCII).
double label_extent(const std::vector<std::string>& labels, double fs) {
  std::size_t n = 0;
  for (const auto& l : labels) n = std::max(n, l.size());
  return double(n) * fs * 0.62;
}

struct HeatmapLayout {
  double cell, left = 80, top = 44, bottom = 60, bar_w = 16, bar_gap = 18, right = 80;
  double width, height;
  explicit HeatmapLayout(const Heatmap& m, double max_side) {
    cell = m.cell > 0 ? m.cell : std::clamp(max_side / std::max(m.rows, m.cols), 4.0, 40.0);
    const double fs = std::clamp(cell * 0.7, 7.0, 11.0);
    left = std::max(left, 34 + label_extent(m.row_labels, fs));
    bottom = std::max(bottom, 34 + label_extent(m.col_labels, fs));
    if (!m.note.empty()) top += 14;
    width = left + cell * m.cols + bar_gap + bar_w + right;
    // Titles are centred over the map: widen the panel until they fit.
    const double title = std::max(label_extent({m.title}, 13 * 1.05), label_extent({m.note}, 10));
    if (title + 20 > 2 * (left + cell * m.cols / 2)) left += (title + 20) / 2 - (left + cell * m.cols / 2);
    width = std::max(width, left + cell * m.cols / 2 + title / 2 + 10);
    height = top + cell * m.rows + bottom;
  }
};

void draw_heatmap(Canvas& c, const Heatmap& m, const HeatmapLayout& L, double x0, double y0) {
  SINKLAB_CHECK(m.rows > 0 && m.cols > 0 && m.values.size() == std::size_t(m.rows) * m.cols,
                "heatmap '{}': {} values for {}x{} cells", m.title, m.values.size(), m.rows, m.cols);
  double lo = INFINITY, hi = -INFINITY;
  for (double v : m.values)
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  lo = m.vmin.value_or(std::isfinite(lo) ? lo : 0.0);
  hi = m.vmax.value_or(std::isfinite(hi) ? hi : 1.0);
  if (hi <= lo) hi = lo + 1;

  const double cell = L.cell, left = x0 + L.left, top = y0 + L.top, bar_w = L.bar_w;
  const double pw = cell * m.cols, ph = cell * m.rows, H = L.height;
  const Rgb black{0, 0, 0};
  {
    for (int i = 0; i < m.rows; ++i)
      for (int j = 0; j < m.cols; ++j) {
        double v = m.causal && j > i ? NAN : m.values[std::size_t(i) * m.cols + j];
        c.color(std::isfinite(v) ? viridis((v - lo) / (hi - lo)) : Rgb{0.85, 0.85, 0.85});
        // Overlap by a hair so PNG shows no seams between cells.
        c.rect(left + j * cell, top + i * cell, cell + 0.3, cell + 0.3, true);
      }
    if (m.annotate && cell >= 24)
      for (int i = 0; i < m.rows; ++i)
        for (int j = 0; j < m.cols; ++j) {
          double v = m.values[std::size_t(i) * m.cols + j];
          if (!std::isfinite(v)) continue;
          // Light text on the dark end of viridis, dark text on the light end.
          c.color((v - lo) / (hi - lo) < 0.55 ? Rgb{1, 1, 1} : black);
          std::string text = fmt::format("{:.3g}", v);  // 5.3e+04 -> 5.3e4: fits a cell
          for (const char* from : {"e+0", "e+", "e-0"})
            if (auto pos = text.find(from); pos != std::string::npos) text.replace(pos, std::strlen(from), from[1] == '-' ? "e-" : "e");
          c.text(text, left + (j + 0.5) * cell, top + (i + 0.5) * cell + 3.5, std::min(10.0, cell / 4), Align::center);
        }
    c.color(black);
    c.rect(left, top, pw, ph, false);
    double fs = std::clamp(cell * 0.7, 7.0, 11.0);
    int stride_r = std::max(1, int(std::ceil(9.0 / cell))), stride_c = std::max(1, int(std::ceil(9.0 / cell)));
    for (int i = 0; i < m.rows && !m.row_labels.empty(); i += stride_r)
      c.text(m.row_labels.at(i), left - 4, top + (i + 0.5) * cell + fs / 3, fs, Align::right);
    for (int j = 0; j < m.cols && !m.col_labels.empty(); j += stride_c)
      c.text(m.col_labels.at(j), left + (j + 0.5) * cell + fs / 3, top + ph + 4, fs, Align::left, M_PI / 2);
    c.text(m.title, left + pw / 2, y0 + 24, 13, Align::center, 0, true);
    if (!m.note.empty()) c.text(m.note, left + pw / 2, y0 + 40, 10, Align::center);
    c.text(m.x_label, left + pw / 2, y0 + H - 8, 12, Align::center);
    c.text(m.y_label, x0 + 16, top + ph / 2, 12, Align::center, -M_PI / 2);

    // Colour bar with ticks.
    double bx = left + pw + L.bar_gap;
    const int steps = 128;
    for (int k = 0; k < steps; ++k) {
      c.color(viridis(1.0 - (k + 0.5) / steps));
      c.rect(bx, top + ph * k / steps, bar_w, ph / steps + 0.5, true);
    }
    c.color(black);
    c.rect(bx, top, bar_w, ph, false);
    Axis bar({lo, hi}, false);
    for (double t : bar.ticks()) {
      if (t < lo || t > hi) continue;
      double y = top + ph * (1 - (t - lo) / (hi - lo));
      c.line(bx + bar_w, y, bx + bar_w + 4, y);
      c.text(Axis::label(t), bx + bar_w + 6, y + 4, 10);
    }
    c.text(m.colorbar_label, bx + bar_w + 58, top + ph / 2, 11, Align::center, M_PI / 2);
  }
}

}  // namespace

void render_heatmap(const Heatmap& m, const std::string& stem) {
  HeatmapLayout L(m, 440);
  render_png_and_svg(stem, L.width, L.height, [&](Canvas& c) { draw_heatmap(c, m, L, 0, 0); });
}

void render_heatmap_grid(const std::vector<Heatmap>& maps, int cols, const std::string& title,
                         const std::string& stem) {
  std::vector<HeatmapLayout> layouts;
  double cw = 0, ch = 0;
  for (const auto& m : maps) {
    layouts.emplace_back(m, 300);
    cw = std::max(cw, layouts.back().width);
    ch = std::max(ch, layouts.back().height);
  }
  if (cols > 0) cw = std::max(cw, (label_extent({title}, 16 * 1.05) + 40) / double(cols));
  render_panel_grid(maps.size(), cols, cw, ch, title, stem, [&](Canvas& c, std::size_t i, double x, double y) {
    draw_heatmap(c, maps[i], layouts[i], x, y);
  });
}

}  // namespace sinklab::plot
