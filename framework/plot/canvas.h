#pragma once
// A drawing surface that becomes a PNG or an SVG file (cairo), plus the text helpers every
// figure needs. Figures draw through a callback once per format, so PNG and SVG always agree.
#include <cairo.h>

#include <functional>
#include <string>

namespace sinklab::plot {

struct Rgb {
  double r, g, b;
};

enum class Align { left, center, right };

class Canvas {
 public:
  Canvas(cairo_t* cr, double width, double height) : cr_(cr), width_(width), height_(height) {}
  cairo_t* cr() const { return cr_; }
  double width() const { return width_; }
  double height() const { return height_; }

  void color(const Rgb& c, double alpha = 1.0);
  void line(double x0, double y0, double x1, double y1, double width = 1.0);
  void rect(double x, double y, double w, double h, bool fill);
  // Draws text with its baseline-center/left/right at (x, y); rotated by `angle` radians.
  void text(const std::string& s, double x, double y, double size, Align align = Align::left, double angle = 0.0,
            bool bold = false);
  double text_width(const std::string& s, double size);

 private:
  cairo_t* cr_;
  double width_, height_;
};

// Renders `draw` into `<stem>.png` and `<stem>.svg`, each written atomically.
void render_png_and_svg(const std::string& stem, double width, double height,
                        const std::function<void(Canvas&)>& draw);

// A sheet of `count` panels of `cell_w` x `cell_h` points, `cols` per row, under a title;
// `draw_panel(c, i, x, y)` draws panel i with its top-left corner at (x, y).
void render_panel_grid(std::size_t count, int cols, double cell_w, double cell_h, const std::string& title,
                       const std::string& stem,
                       const std::function<void(Canvas&, std::size_t, double, double)>& draw_panel);

}  // namespace sinklab::plot
