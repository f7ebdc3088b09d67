#pragma once
// `sinklab archive rerun FILE`: runs an archived run again from its resolved config, on the
// inputs it read (found by their SHA-256), and compares every summary number and every run.h5
// dataset with the archived ones (io/result_diff.h). Exit 0 when everything agrees, 3 when
// something differs, 2 when an input is missing or different (nothing is run then).
#include <string>
#include <vector>

namespace sinklab::cli {

int archive_rerun(const std::vector<std::string>& args);

}  // namespace sinklab::cli
