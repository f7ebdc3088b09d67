#pragma once
// A numeric axis: data range -> [0, 1], with "nice" tick positions (1-2-5 steps, or decades
// on a log axis) and compact labels.
#include <string>
#include <vector>

namespace sinklab::plot {

class Axis {
 public:
  // Range from data (NaN/inf and, on a log axis, values <= 0 are ignored). Padded slightly.
  Axis(const std::vector<double>& values, bool log_scale);
  double fraction(double v) const;  // 0 at the low end, 1 at the high end
  std::vector<double> ticks() const;
  static std::string label(double v);
  bool log_scale() const { return log_; }
  bool usable(double v) const;  // finite and (for log) positive

 private:
  double lo_, hi_;  // in transformed units (log10 for a log axis)
  bool log_;
};

}  // namespace sinklab::plot
