#include "framework/plot/colormap.h"

#include <algorithm>
#include <cmath>

namespace sinklab::plot {

Rgb viridis(double t) {
  // Viridis sampled at 9 evenly spaced points; linear interpolation between them.
  static const Rgb anchors[] = {{0.267, 0.005, 0.329}, {0.283, 0.141, 0.458}, {0.254, 0.265, 0.530},
                                {0.207, 0.372, 0.553}, {0.164, 0.471, 0.558}, {0.128, 0.567, 0.551},
                                {0.135, 0.659, 0.518}, {0.478, 0.821, 0.318}, {0.993, 0.906, 0.144}};
  if (!std::isfinite(t)) return {0.6, 0.6, 0.6};
  t = std::clamp(t, 0.0, 1.0) * 8.0;
  int i = std::min(int(t), 7);
  double f = t - i;
  const Rgb &a = anchors[i], &b = anchors[i + 1];
  return {a.r + f * (b.r - a.r), a.g + f * (b.g - a.g), a.b + f * (b.b - a.b)};
}

Rgb series_color(int index) {
  static const Rgb palette[] = {{0.122, 0.467, 0.706}, {1.000, 0.498, 0.055}, {0.173, 0.627, 0.173},
                                {0.839, 0.153, 0.157}, {0.580, 0.404, 0.741}, {0.549, 0.337, 0.294},
                                {0.890, 0.467, 0.761}, {0.498, 0.498, 0.498}, {0.737, 0.741, 0.133},
                                {0.090, 0.745, 0.812}};
  return palette[((index % 10) + 10) % 10];
}

}  // namespace sinklab::plot
