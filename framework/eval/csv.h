#pragma once
// CSV as MMLU's files use it (RFC 4180): comma-separated, fields optionally in double quotes,
// quotes doubled inside them, newlines allowed inside quoted fields, \n or \r\n row ends.
#include <string>
#include <vector>

namespace sinklab {

// `source` names the file in errors (an unterminated quote is an InputError with its line).
std::vector<std::vector<std::string>> parse_csv(const std::string& text, const std::string& source);

}  // namespace sinklab
