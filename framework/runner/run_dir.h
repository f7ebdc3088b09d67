#pragma once
// A run's output directory, built under a hidden ".partial" name and renamed into place only
// when the run succeeds, so a failed or killed run never leaves results that look complete.
//   default:  <results>/<name>/<YYYYmmdd-HHMMSS>-<config hash 8>/   and <results>/<name>/latest ->
//   --out D:  exactly D (an existing D is replaced at the end)
#include <optional>
#include <string>

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
  bool explicit_ = false, done_ = false;
};

}  // namespace sinklab
