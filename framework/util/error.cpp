#include "framework/util/error.h"

#include <cstring>

namespace sinklab {

[[noreturn]] void throw_internal(const char* file, int line, const std::string& message) {
  // Show the path from the repository root, so messages read the same on every machine.
  const char* rel = file;
  for (const char* top : {"/framework/", "/experiments/", "/tests/"})
    if (const char* hit = std::strstr(file, top); hit != nullptr && (rel == file || hit < rel)) rel = hit + 1;
  throw InternalError(fmt::format("{} ({}:{})", message, rel, line));
}

}  // namespace sinklab
