#include "framework/util/error.h"

#include <cstring>

namespace sinklab {

[[noreturn]] void throw_internal(const char* file, int line, const std::string& message) {
  // Show the path from the repository root, so messages read the same on every machine.
  const std::string root = std::string(SINKLAB_SOURCE_DIR) + "/";
  const char* rel = std::strncmp(file, root.c_str(), root.size()) == 0 ? file + root.size() : file;
  throw InternalError(fmt::format("{} ({}:{})", message, rel, line));
}

}  // namespace sinklab
