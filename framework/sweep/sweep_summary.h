#pragma once
// Aggregating a sweep: one row per grid point with its axes, state, duration and every number
// its run produced (its summary.json flattened to dotted paths, plus run time, peak memory and
// per-stage seconds from provenance.json), written as summary.csv and summary.h5, and figures
// of one metric over the axes (a heatmap over two grid axes; lines along the last axis).
#include <map>
#include <string>
#include <vector>

#include "framework/sweep/sweep_plan.h"

namespace sinklab {

struct SweepRow {
  std::size_t index = 0;
  std::string state;  // ok | failed | pending (no status yet)
  int exit_code = -1;
  double seconds = 0;
  std::map<std::string, double> metrics;
};

struct SweepTable {
  std::vector<SweepRow> rows;          // in point order
  std::vector<std::string> columns;    // union of the rows' metric names, sorted
  std::size_t count(const std::string& state) const;
};

SweepTable collect_sweep_table(const SweepPlan& plan);

// summary.csv and summary.h5 in the sweep directory; with `metric` set, figures/sweep_lines
// (.png/.svg) and, for two grid axes, figures/sweep_heatmap. An unknown metric is an InputError naming the columns.
void write_sweep_summary(const SweepPlan& plan, const SweepTable& table, const std::string& metric);

}  // namespace sinklab
