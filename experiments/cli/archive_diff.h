#pragma once
// `sinklab archive diff A B`: what differs between two verified archives of runs (resolved
// config lines, summary.json numbers) or of sweeps (axes and overrides, then every point's
// numbers, points matched by their axis values).
#include <string>

namespace sinklab::cli {

int archive_diff(const std::string& a, const std::string& b);

}  // namespace sinklab::cli
