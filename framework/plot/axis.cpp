#include "framework/plot/axis.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace sinklab::plot {

bool Axis::usable(double v) const { return std::isfinite(v) && (!log_ || v > 0); }

Axis::Axis(const std::vector<double>& values, bool log_scale) : lo_(0), hi_(1), log_(log_scale) {
  double lo = INFINITY, hi = -INFINITY;
  for (double v : values) {
    if (!usable(v)) continue;
    double t = log_ ? std::log10(v) : v;
    lo = std::min(lo, t);
    hi = std::max(hi, t);
  }
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  if (hi - lo < 1e-12) lo -= 0.5, hi += 0.5;
  double pad = 0.04 * (hi - lo);
  lo_ = lo - pad;
  hi_ = hi + pad;
}

double Axis::fraction(double v) const {
  double t = log_ ? std::log10(v) : v;
  return (t - lo_) / (hi_ - lo_);
}

std::vector<double> Axis::ticks() const {
  std::vector<double> out;
  if (log_) {
    // One tick per decade, thinned to at most ~8.
    int first = int(std::ceil(lo_)), last = int(std::floor(hi_));
    int step = std::max(1, (last - first + 1 + 7) / 8);
    for (int e = first; e <= last; e += step) out.push_back(std::pow(10.0, e));
    if (out.size() < 3) {  // less than ~2 decades: 2x and 5x marks too, so the axis has labels
      out.clear();
      for (int e = int(std::floor(lo_)); e <= int(std::ceil(hi_)); ++e)
        for (double m : {1.0, 2.0, 5.0}) {
          double v = m * std::pow(10.0, e), t = std::log10(v);
          if (t >= lo_ && t <= hi_) out.push_back(v);
        }
    }
    return out;
  }
  double span = hi_ - lo_;
  double raw = span / 6;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  for (double v = std::ceil(lo_ / step) * step; v <= hi_ + 1e-9 * span; v += step)
    out.push_back(std::fabs(v) < 1e-12 * span ? 0.0 : v);
  return out;
}

std::string Axis::label(double v) {
  if (v == 0) return "0";
  double a = std::fabs(v);
  if (a >= 1e4 || a < 1e-3) {
    // Ticks are round numbers: the shortest mantissa that keeps them apart (1.5e+06, 2e+06).
    for (int digits = 0; digits < 4; ++digits) {
      auto s = fmt::format("{:.{}e}", v, digits);
      if (std::fabs(std::stod(s) - v) <= 1e-9 * a) return s;
    }
    return fmt::format("{:.3e}", v);
  }
  return fmt::format("{:g}", v);
}

}  // namespace sinklab::plot
