#pragma once
// Where ../shared (goldens, tiny checkpoints) is: $SINKLAB_SHARED, else <checkout>/../shared.
// Tests that need it skip with a clear message when it is absent.
#include <filesystem>
#include <optional>
#include <string>

#include "framework/util/system.h"

namespace sinklab::test {

inline std::optional<std::string> shared_dir() {
  const char* env = std::getenv("SINKLAB_SHARED");
  std::filesystem::path p = env ? std::filesystem::path(env) : std::filesystem::path(source_dir()) / ".." / "shared";
  if (std::filesystem::is_directory(p / "golden")) return std::filesystem::canonical(p).string();
  return std::nullopt;
}

}  // namespace sinklab::test
