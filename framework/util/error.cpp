#include "framework/util/error.h"

#include <cstring>

namespace sinklab {

[[noreturn]] void throw_internal(const char* file, int line, const std::string& message) {
  // Show the path from the repository root only, so messages do not leak build paths.
  const char* rel = std::strstr(file, "framework/");
  if (rel == nullptr) rel = std::strstr(file, "experiments/");
  throw InternalError(fmt::format("{} ({}:{})", message, rel ? rel : file, line));
}

}  // namespace sinklab
