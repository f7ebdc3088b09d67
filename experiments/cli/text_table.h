#pragma once
// A table for the terminal: columns padded to their widest cell (at most 80 characters; the
// last column is not padded), each aligned as `align` says ('<' left, '>' right; missing: right).
#include <string>
#include <vector>

namespace sinklab::cli {

std::string text_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                       const std::string& align, const std::string& indent = "");

}  // namespace sinklab::cli
