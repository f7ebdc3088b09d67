#pragma once
// `sinklab report`: one self-contained report.html for a run or a sweep directory (also one
// unpacked from an archive): figures, the interactive attention view, the metrics tables,
// provenance and the resolved config. It reads only files inside the directory and writes
// only the report (a sweep's report also writes a point's report.html where it is missing).
#include <string>

namespace sinklab::report {

// Writes DIR/report.html (or `output`) and returns its path. InputError when DIR is neither a
// run directory (summary.json / provenance.json) nor a sweep directory (sweep.json).
std::string write_report(const std::string& dir, const std::string& output = "");

}  // namespace sinklab::report
