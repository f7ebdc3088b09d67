#pragma once
// The points of a sweep: axes of config overrides (key path -> values), combined as a
// cartesian product; "zipped" axes advance together and count as one axis.
#include <string>
#include <utility>
#include <vector>

namespace sinklab {

struct SweepAxis {
  std::string key;                  // dotted config path, e.g. prune.sparsity
  std::vector<std::string> values;  // YAML text, as a command-line override takes it
};

struct SweepPoint {
  std::vector<std::pair<std::string, std::string>> assignments;  // key, value
  std::vector<std::string> overrides() const;                    // "key=value"
  std::string label() const;                                     // "key=value, key=value"
};

// "a.b=v1,v2,v3": values split at commas outside brackets, braces and quotes.
SweepAxis parse_sweep_axis(const std::string& spec);

// Every combination of the grid axes (the last axis varies fastest) times the zipped axes
// (which must all have the same length). An empty grid, an empty axis, a key given twice or
// zipped axes of different lengths are InputErrors.
std::vector<SweepPoint> expand_sweep(const std::vector<SweepAxis>& grid, const std::vector<SweepAxis>& zipped);

}  // namespace sinklab
