#pragma once
// Runs sweep points as child processes on this machine, at most `jobs` at a time. Each point's
// status file is written as it ends; a failed point does not stop the others.
#include <cstddef>
#include <vector>

#include "framework/sweep/sweep_plan.h"

namespace sinklab {

void run_points_locally(const SweepPlan& plan, const std::vector<std::size_t>& indices, int jobs);

}  // namespace sinklab
