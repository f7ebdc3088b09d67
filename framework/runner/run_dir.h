#pragma once
// A run's output directory, built under a hidden ".partial" name and renamed into place only
// when the run succeeds, so a failed or killed run never leaves results that look complete.
//   default:  <results>/<name>/<YYYYmmdd-HHMMSS>-<config hash 8>[-N]/   and <results>/<name>/latest ->
//             (the id is claimed by creating it, holding only `.claimed.<pid>`, before any work:
//             two runs of one config started in the same second get -2, -3, ...)
//   --out D:  exactly D (an existing D is replaced at the end)
#include <memory>
#include <optional>
#include <string>

#include "framework/util/interrupt.h"

namespace sinklab {

class RunDirectory {
 public:
  RunDirectory(const std::string& results_root, const std::string& name, const std::string& config_hash,
               const std::optional<std::string>& explicit_dir);
  ~RunDirectory();  // removes the partial directory unless finalize() ran
  RunDirectory(const RunDirectory&) = delete;
  RunDirectory& operator=(const RunDirectory&) = delete;

  const std::string& partial() const { return partial_; }
  const std::string& final_path() const { return final_; }
  std::string file(const std::string& relative) const;  // a path inside the partial directory
  void finalize();

 private:
  std::string partial_, final_;
  std::string claim_;  // the marker inside the claimed final directory (default ids)
  // Removed on SIGINT / SIGTERM until finalize(): the partial directory and the claimed id.
  std::unique_ptr<RemoveOnInterrupt> partial_guard_, claim_guard_;
  bool explicit_ = false, done_ = false;
};

}  // namespace sinklab
