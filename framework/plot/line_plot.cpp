#include <cmath>

#include "framework/plot/axis.h"
#include "framework/plot/canvas.h"
#include "framework/plot/colormap.h"
#include "framework/plot/figures.h"
#include "framework/util/error.h"

namespace sinklab::plot {

namespace {

// Draws one plot into the box (x0, y0, W, H) of the canvas.
void draw_line_plot(Canvas& c, const LinePlot& plot, double x0, double y0, double W, double H) {
  SINKLAB_CHECK(!plot.series.empty(), "line plot '{}' has no series", plot.title);
  std::vector<double> xs, ys;
  for (const auto& s : plot.series) {
    SINKLAB_CHECK(s.x.size() == s.y.size(), "series '{}': {} x values but {} y values", s.label, s.x.size(), s.y.size());
    xs.insert(xs.end(), s.x.begin(), s.x.end());
    ys.insert(ys.end(), s.y.begin(), s.y.end());
  }
  const Axis ax(xs, plot.log_x), ay(ys, plot.log_y);
  const double left = x0 + 72, top = y0 + 40;
  const double pw = W - 72 - 20, ph = H - 40 - 56;
  const Rgb black{0, 0, 0}, grid{0.88, 0.88, 0.88};
  {
    auto px = [&](double x) { return left + ax.fraction(x) * pw; };
    auto py = [&](double y) { return top + (1 - ay.fraction(y)) * ph; };
    // Grid and tick labels.
    for (double t : ax.ticks()) {
      c.color(grid);
      c.line(px(t), top, px(t), top + ph);
      c.color(black);
      c.text(Axis::label(t), px(t), top + ph + 16, 11, Align::center);
    }
    for (double t : ay.ticks()) {
      c.color(grid);
      c.line(left, py(t), left + pw, py(t));
      c.color(black);
      c.text(Axis::label(t), left - 6, py(t) + 4, 11, Align::right);
    }
    c.color(black);
    c.rect(left, top, pw, ph, false);
    c.text(plot.title, x0 + W / 2, y0 + 24, 14, Align::center, 0, true);
    c.text(plot.x_label, left + pw / 2, y0 + H - 14, 12, Align::center);
    c.text(plot.y_label, x0 + 18, top + ph / 2, 12, Align::center, -M_PI / 2);

    // Series: lines broken where a value cannot be drawn (NaN, or <= 0 on a log axis).
    cairo_save(c.cr());
    cairo_rectangle(c.cr(), left, top, pw, ph);
    cairo_clip(c.cr());
    for (std::size_t k = 0; k < plot.series.size(); ++k) {
      const auto& s = plot.series[k];
      c.color(series_color(int(k)));
      cairo_set_line_width(c.cr(), 1.8);
      bool pen = false;
      for (std::size_t i = 0; i < s.x.size(); ++i) {
        if (!ax.usable(s.x[i]) || !ay.usable(s.y[i])) {
          pen = false;
          continue;
        }
        if (pen) cairo_line_to(c.cr(), px(s.x[i]), py(s.y[i]));
        else cairo_move_to(c.cr(), px(s.x[i]), py(s.y[i]));
        pen = true;
      }
      cairo_stroke(c.cr());
      if (s.markers)
        for (std::size_t i = 0; i < s.x.size(); ++i)
          if (ax.usable(s.x[i]) && ay.usable(s.y[i])) {
            cairo_arc(c.cr(), px(s.x[i]), py(s.y[i]), 2.6, 0, 2 * M_PI);
            cairo_fill(c.cr());
          }
    }
    cairo_restore(c.cr());

    // Legend, top right inside the plot.
    double lw = 0;
    for (const auto& s : plot.series) lw = std::max(lw, c.text_width(s.label, 11));
    double lx = left + pw - lw - 40, ly = top + 10;
    c.color({1, 1, 1}, 0.85);
    c.rect(lx - 6, ly - 4, lw + 40, 18.0 * plot.series.size() + 6, true);
    for (std::size_t k = 0; k < plot.series.size(); ++k) {
      double y = ly + 18.0 * k + 9;
      c.color(series_color(int(k)));
      c.line(lx, y, lx + 22, y, 2.0);
      c.color(black);
      c.text(plot.series[k].label, lx + 28, y + 4, 11);
    }
  }
}

}  // namespace

void render_line_plot(const LinePlot& plot, const std::string& stem) {
  render_png_and_svg(stem, 640, 420, [&](Canvas& c) { draw_line_plot(c, plot, 0, 0, 640, 420); });
}

void render_line_plot_grid(const std::vector<LinePlot>& plots, int cols, const std::string& title,
                           const std::string& stem) {
  const double w = 520, h = 360;
  render_panel_grid(plots.size(), cols, w, h, title, stem, [&](Canvas& c, std::size_t i, double x, double y) {
    draw_line_plot(c, plots[i], x, y, w, h);
  });
}

}  // namespace sinklab::plot
