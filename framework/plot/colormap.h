#pragma once
#include "framework/plot/canvas.h"

namespace sinklab::plot {

// Viridis (perceptually uniform, colour-blind safe), t in [0, 1], clamped.
Rgb viridis(double t);
// A qualitative palette for line series (Tableau 10).
Rgb series_color(int index);

}  // namespace sinklab::plot
