#include <fmt/format.h>

#include <cmath>

#include "framework/plot/axis.h"
#include "framework/plot/canvas.h"
#include "framework/plot/colormap.h"
#include "framework/plot/figures.h"
#include "framework/util/error.h"

namespace sinklab::plot {

namespace {

// Draws one chart into the box (x0, y0, W, H): the value axis always includes 0, so bar
// heights compare; labels under the bars are rotated when they would collide.
void draw_bar_chart(Canvas& c, const BarChart& chart, double x0, double y0, double W, double H) {
  SINKLAB_CHECK(chart.labels.size() == chart.values.size() && !chart.labels.empty(),
                "bar chart '{}': {} labels, {} values", chart.title, chart.labels.size(), chart.values.size());
  std::vector<double> range = chart.values;
  range.push_back(0);
  if (chart.reference) range.push_back(*chart.reference);
  const Axis ay(range, false);
  const double left = x0 + 72, top = y0 + 40, pw = W - 72 - 20, ph = H - 40 - 96;
  const Rgb black{0, 0, 0}, grid{0.88, 0.88, 0.88};
  auto py = [&](double y) { return top + (1 - ay.fraction(y)) * ph; };
  for (double t : ay.ticks()) {
    c.color(grid);
    c.line(left, py(t), left + pw, py(t));
    c.color(black);
    c.text(Axis::label(t), left - 6, py(t) + 4, 11, Align::right);
  }
  const double n = double(chart.values.size()), slot = pw / n, bar = std::min(slot * 0.7, 60.0);
  double widest = 0;
  for (const auto& l : chart.labels) widest = std::max(widest, c.text_width(l, 11));
  const bool rotate = widest > slot - 4;
  for (std::size_t i = 0; i < chart.values.size(); ++i) {
    const double cx = left + slot * (double(i) + 0.5), v = chart.values[i];
    if (std::isfinite(v)) {
      c.color(series_color(int(i)));
      const double y = py(v), base = py(0);
      c.rect(cx - bar / 2, std::min(y, base), bar, std::abs(base - y), true);
      c.color(black);
      c.text(fmt::format("{:.3g}", v), cx, std::min(y, base) - 4, 10, Align::center);
    } else {
      c.color(black);
      c.text("n/a", cx, py(0) - 4, 10, Align::center);
    }
    c.color(black);
    if (rotate) c.text(chart.labels[i], cx + 4, top + ph + 12, 11, Align::right, -M_PI / 4);
    else c.text(chart.labels[i], cx, top + ph + 16, 11, Align::center);
  }
  if (chart.reference) {
    cairo_save(c.cr());
    const double dash[] = {5, 4};
    cairo_set_dash(c.cr(), dash, 2, 0);
    c.color({0.3, 0.3, 0.3});
    c.line(left, py(*chart.reference), left + pw, py(*chart.reference), 1.2);
    cairo_restore(c.cr());
  }
  c.color(black);
  c.line(left, py(0), left + pw, py(0), 1.0);
  c.rect(left, top, pw, ph, false);
  c.text(chart.title, x0 + W / 2, y0 + 24, 14, Align::center, 0, true);
  c.text(chart.y_label, x0 + 18, top + ph / 2, 12, Align::center, -M_PI / 2);
}

}  // namespace

void render_bar_chart_grid(const std::vector<BarChart>& charts, int cols, const std::string& title,
                           const std::string& stem) {
  const double w = 480, h = 380;
  render_panel_grid(charts.size(), cols, w, h, title, stem, [&](Canvas& c, std::size_t i, double x, double y) {
    draw_bar_chart(c, charts[i], x, y, w, h);
  });
}

}  // namespace sinklab::plot
