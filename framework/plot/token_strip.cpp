// Prompts as running text on PCA-coloured backgrounds (paper Fig. 2c/d, Figs. 7-11).
#include <cairo.h>

#include <algorithm>

#include "framework/plot/canvas.h"
#include "framework/plot/figures.h"
#include "framework/util/error.h"

namespace sinklab::plot {
namespace {

constexpr double kFont = 12, kLine = 20, kPad = 2, kMargin = 20, kTitle = 22, kNote = 16;

struct Box {
  double x, y, w;
  std::string text;
};

// What a token shows: newlines and tabs made visible, nothing else changed.
std::string display(const std::string& token, bool& breaks_line) {
  std::string out;
  breaks_line = false;
  for (char ch : token) {
    if (ch == '\n') out += "\\n", breaks_line = true;
    else if (ch == '\t') out += "\\t";
    else if (ch == '\r') out += "\\r";
    else out += ch;
  }
  return out.empty() ? "\u2205" : out;
}

// Flows the tokens of one panel into lines of `width` points; returns the boxes and the height.
std::pair<std::vector<Box>, double> flow(Canvas& c, const TokenStrip& strip, double width) {
  std::vector<Box> boxes;
  double x = kMargin, y = 0;
  for (const auto& token : strip.tokens) {
    bool breaks = false;
    std::string text = display(token, breaks);
    double w = c.text_width(text, kFont) + 2 * kPad;
    if (x + w > width - kMargin && x > kMargin) x = kMargin, y += kLine;
    boxes.push_back({x, y, w, text});
    x += w + 1;
    if (breaks) x = kMargin, y += kLine;
  }
  return {boxes, y + kLine};
}

double header_height(const TokenStrip& s) { return kTitle + (s.note.empty() ? 0 : kNote) + 6; }

}  // namespace

void render_token_strips(const std::vector<TokenStrip>& panels, const std::string& title, const std::string& stem,
                         double width) {
  SINKLAB_CHECK(!panels.empty(), "token strip figure '{}' has no panels", title);
  for (const auto& p : panels)
    SINKLAB_CHECK(p.colors.size() == p.tokens.size() && (p.muted.empty() || p.muted.size() == p.tokens.size()),
                  "token strip '{}': {} tokens, {} colours", p.title, p.tokens.size(), p.colors.size());
  // Measure on a scratch surface first: the height depends on how the text wraps.
  cairo_surface_t* scratch = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t* scratch_cr = cairo_create(scratch);
  Canvas measure(scratch_cr, 1, 1);
  std::vector<std::vector<Box>> layouts;
  double height = 40;
  for (const auto& p : panels) {
    auto [boxes, h] = flow(measure, p, width);
    layouts.push_back(std::move(boxes));
    height += header_height(p) + h + 14;
  }
  cairo_destroy(scratch_cr);
  cairo_surface_destroy(scratch);

  render_png_and_svg(stem, width, height, [&](Canvas& c) {
    c.color({0, 0, 0});
    c.text(title, width / 2, 26, 15, Align::center, 0, true);
    double top = 40;
    for (std::size_t i = 0; i < panels.size(); ++i) {
      const TokenStrip& p = panels[i];
      c.color({0, 0, 0});
      c.text(p.title, kMargin, top + 16, 12, Align::left, 0, true);
      if (!p.note.empty()) c.text(p.note, kMargin, top + kTitle + 10, 10);
      double y0 = top + header_height(p);
      double bottom = y0;
      for (std::size_t t = 0; t < layouts[i].size(); ++t) {
        const Box& b = layouts[i][t];
        const auto& rgb = p.colors[t];
        const bool muted = !p.muted.empty() && p.muted[t];
        Rgb bg = muted ? Rgb{0.8, 0.8, 0.8} : Rgb{rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0};
        c.color(bg);
        c.rect(b.x, y0 + b.y, b.w, kLine - 2, true);
        // Dark text on light backgrounds, white on dark ones (Rec. 709 luma).
        double luma = 0.2126 * bg.r + 0.7152 * bg.g + 0.0722 * bg.b;
        c.color(luma > 0.5 ? Rgb{0, 0, 0} : Rgb{1, 1, 1});
        c.text(b.text, b.x + kPad, y0 + b.y + kLine - 7, kFont);
        bottom = std::max(bottom, y0 + b.y + kLine);
      }
      top = bottom + 14;
    }
  });
}

}  // namespace sinklab::plot
