#include "framework/plot/canvas.h"

#include <filesystem>

#include <cairo-svg.h>

#include "framework/io/atomic_file.h"
#include "framework/util/error.h"

namespace sinklab::plot {

void Canvas::color(const Rgb& c, double alpha) { cairo_set_source_rgba(cr_, c.r, c.g, c.b, alpha); }

void Canvas::line(double x0, double y0, double x1, double y1, double width) {
  cairo_set_line_width(cr_, width);
  cairo_move_to(cr_, x0, y0);
  cairo_line_to(cr_, x1, y1);
  cairo_stroke(cr_);
}

void Canvas::rect(double x, double y, double w, double h, bool fill) {
  cairo_rectangle(cr_, x, y, w, h);
  if (fill) cairo_fill(cr_);
  else cairo_stroke(cr_);
}

static void select_font(cairo_t* cr, double size, bool bold) {
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
}

double Canvas::text_width(const std::string& s, double size) {
  select_font(cr_, size, false);
  cairo_text_extents_t ext;
  cairo_text_extents(cr_, s.c_str(), &ext);
  return ext.x_advance;
}

void Canvas::text(const std::string& s, double x, double y, double size, Align align, double angle, bool bold) {
  select_font(cr_, size, bold);
  cairo_text_extents_t ext;
  cairo_text_extents(cr_, s.c_str(), &ext);
  double dx = align == Align::left ? 0 : align == Align::center ? -ext.x_advance / 2 : -ext.x_advance;
  cairo_save(cr_);
  cairo_translate(cr_, x, y);
  cairo_rotate(cr_, angle);
  cairo_move_to(cr_, dx, 0);
  cairo_show_text(cr_, s.c_str());
  cairo_restore(cr_);
}

static void draw_on(cairo_surface_t* surface, double w, double h, const std::function<void(Canvas&)>& draw) {
  cairo_t* cr = cairo_create(surface);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  Canvas canvas(cr, w, h);
  draw(canvas);
  cairo_destroy(cr);
}

void render_png_and_svg(const std::string& stem, double width, double height,
                        const std::function<void(Canvas&)>& draw) {
  // A failed write (a full disk) leaves no temporary file behind.
  auto check_written = [](cairo_status_t st, const std::string& tmp, const std::string& final_path) {
    if (st == CAIRO_STATUS_SUCCESS) return;
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw InputError(fmt::format("cannot write figure '{}': {} (disk full?)", final_path, cairo_status_to_string(st)));
  };
  // PNG at 2x for crisp text; coordinates stay in points.
  {
    std::string final_path = stem + ".png", tmp = temporary_path_for(final_path);
    cairo_surface_t* s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, int(width * 2), int(height * 2));
    cairo_surface_set_device_scale(s, 2, 2);
    draw_on(s, width, height, draw);
    cairo_status_t st = cairo_surface_write_to_png(s, tmp.c_str());
    cairo_surface_destroy(s);
    check_written(st, tmp, final_path);
    commit_file(tmp, final_path);
  }
  {
    std::string final_path = stem + ".svg", tmp = temporary_path_for(final_path);
    cairo_surface_t* s = cairo_svg_surface_create(tmp.c_str(), width, height);
    draw_on(s, width, height, draw);
    cairo_surface_finish(s);
    cairo_status_t st = cairo_surface_status(s);
    cairo_surface_destroy(s);
    check_written(st, tmp, final_path);
    commit_file(tmp, final_path);
  }
}

void render_panel_grid(std::size_t count, int cols, double cell_w, double cell_h, const std::string& title,
                       const std::string& stem,
                       const std::function<void(Canvas&, std::size_t, double, double)>& draw_panel) {
  SINKLAB_CHECK(count > 0 && cols > 0, "empty figure grid '{}'", title);
  const double header = 36;
  const int rows = int((count + std::size_t(cols) - 1) / std::size_t(cols));
  render_png_and_svg(stem, cell_w * cols, header + cell_h * rows, [&](Canvas& c) {
    c.color({0, 0, 0});
    c.text(title, cell_w * cols / 2, 24, 16, Align::center, 0, true);
    for (std::size_t i = 0; i < count; ++i)
      draw_panel(c, i, cell_w * double(i % std::size_t(cols)), header + cell_h * double(i / std::size_t(cols)));
  });
}

}  // namespace sinklab::plot
