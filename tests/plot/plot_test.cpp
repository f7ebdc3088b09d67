#include <cairo.h>

#include "tests/support/catch.h"
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "framework/plot/axis.h"
#include "framework/plot/colormap.h"
#include "framework/plot/figures.h"
#include "tests/support/temp_dir.h"

using namespace sinklab;
using namespace sinklab::plot;

static std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_CASE("axis ticks use 1-2-5 steps on linear axes and decades on log axes", "[plot]") {
  Axis lin({0.0, 10.0}, false);
  auto t = lin.ticks();
  CHECK(std::find(t.begin(), t.end(), 0.0) != t.end());
  CHECK(std::find(t.begin(), t.end(), 10.0) != t.end());
  for (std::size_t i = 1; i < t.size(); ++i) CHECK(t[i] - t[i - 1] == Approx(2.0));
  Axis log({1e-6, 1e-5, 3.0, -1.0, NAN}, true);  // non-positive and NaN values are ignored
  for (double v : log.ticks()) CHECK(std::log10(v) == Approx(std::round(std::log10(v))));
  CHECK(log.ticks().size() >= 3);
  CHECK(log.fraction(1e-6) < log.fraction(1.0));
  auto narrow = Axis({0.4, 4.0}, true).ticks();  // within one decade: 1-2-5 marks
  CHECK(narrow == std::vector<double>{0.5, 1.0, 2.0});
  CHECK(Axis::label(1e-5) == "1e-05");
  CHECK(Axis::label(0.25) == "0.25");
}

TEST_CASE("a line plot is written as a valid PNG and SVG", "[plot]") {
  test::TempDir dir;
  LinePlot p;
  p.title = "t";
  p.log_y = true;
  p.series = {{"a", {1, 2, 3}, {1e-3, 1e-2, 0.0}}, {"b", {1, 2, 3}, {1, NAN, 3}}};
  render_line_plot(p, dir / "fig");
  cairo_surface_t* png = cairo_image_surface_create_from_png((dir / "fig.png").c_str());
  REQUIRE(cairo_surface_status(png) == CAIRO_STATUS_SUCCESS);
  CHECK(cairo_image_surface_get_width(png) == 1280);  // 640 pt at 2x
  cairo_surface_destroy(png);
  auto svg = slurp(dir / "fig.svg");
  CHECK(svg.find("<svg") != std::string::npos);
  CHECK(svg.find("</svg>") != std::string::npos);
}

TEST_CASE("heatmap cells are drawn in the colour map's colours", "[plot]") {
  test::TempDir dir;
  Heatmap m;
  m.rows = 2;
  m.cols = 2;
  m.values = {0.0, 1.0, NAN, 0.5};
  m.vmin = 0.0;
  m.vmax = 1.0;
  render_heatmap(m, dir / "map");
  cairo_surface_t* png = cairo_image_surface_create_from_png((dir / "map.png").c_str());
  REQUIRE(cairo_surface_status(png) == CAIRO_STATUS_SUCCESS);
  const unsigned char* data = cairo_image_surface_get_data(png);
  const int stride = cairo_image_surface_get_stride(png);
  // Layout (points): left margin 80, top 44, cell 40 (capped); PNG is 2x.
  auto pixel = [&](double x_pt, double y_pt) {
    const unsigned char* p = data + int(y_pt * 2) * stride + int(x_pt * 2) * 4;  // BGRA
    return Rgb{p[2] / 255.0, p[1] / 255.0, p[0] / 255.0};
  };
  auto near = [](Rgb a, Rgb b) { return std::fabs(a.r - b.r) < 0.02 && std::fabs(a.g - b.g) < 0.02 && std::fabs(a.b - b.b) < 0.02; };
  CHECK(near(pixel(80 + 20, 44 + 20), viridis(0.0)));
  CHECK(near(pixel(80 + 60, 44 + 20), viridis(1.0)));
  CHECK(near(pixel(80 + 20, 44 + 60), Rgb{0.85, 0.85, 0.85}));  // NaN: grey
  CHECK(near(pixel(80 + 60, 44 + 60), viridis(0.5)));
  cairo_surface_destroy(png);

  m.causal = true;  // the future key (row 0, column 1) is masked, whatever its value
  render_heatmap(m, dir / "causal");
  png = cairo_image_surface_create_from_png((dir / "causal.png").c_str());
  data = cairo_image_surface_get_data(png);
  CHECK(near(pixel(80 + 60, 44 + 20), Rgb{0.85, 0.85, 0.85}));
  CHECK(near(pixel(80 + 20, 44 + 20), viridis(0.0)));
  cairo_surface_destroy(png);
}

TEST_CASE("token strips paint each token's background in its colour and wrap long prompts", "[plot]") {
  test::TempDir dir;
  TokenStrip s;
  s.title = "panel";
  for (int i = 0; i < 120; ++i) {
    s.tokens.push_back(i % 17 == 16 ? "\n" : " word" + std::to_string(i));
    s.colors.push_back({static_cast<unsigned char>(i == 0 ? 255 : 0), 0, static_cast<unsigned char>(i == 0 ? 0 : 255)});
  }
  render_token_strips({s, s}, "strips", dir / "strip", 600);
  REQUIRE(std::filesystem::exists(dir / "strip.svg"));
  cairo_surface_t* png = cairo_image_surface_create_from_png((dir / "strip.png").c_str());
  REQUIRE(cairo_surface_status(png) == CAIRO_STATUS_SUCCESS);
  const int w = cairo_image_surface_get_width(png), h = cairo_image_surface_get_height(png);
  const int stride = cairo_image_surface_get_stride(png);
  const unsigned char* data = cairo_image_surface_get_data(png);
  // 120 tokens of ~60 points in 560 points: at least 13 lines of 20 points per panel (PNG is 2x).
  CHECK(h > 2 * 2 * 13 * 20);
  int red = 0, blue = 0;  // background pixels of token 0 (red) and the others (blue)
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const unsigned char* p = data + y * stride + x * 4;  // BGRA
      red += p[2] > 250 && p[1] < 5 && p[0] < 5;
      blue += p[0] > 250 && p[1] < 5 && p[2] < 5;
    }
  cairo_surface_destroy(png);
  CHECK(red > 100);
  CHECK(blue > 50 * red);
  s.colors.pop_back();
  CHECK_THROWS(render_token_strips({s}, "bad", dir / "bad"));
}
