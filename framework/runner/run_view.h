#pragma once
// Read-only access to a run's datasets under run.h5's layout, /<stage>/<path>, whether they sit
// in one assembled run.h5 or still in the stages' cache entries (a report stage reads them there,
// without copying anything).
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "framework/io/hdf5_store.h"

namespace sinklab {

class RunView {
 public:
  // An assembled run.h5 (or any file with that layout).
  explicit RunView(const Hdf5File& run);
  // Stage name -> that stage's cache entry (its datasets at the entry's root).
  explicit RunView(std::map<std::string, const Hdf5File*> stages);

  bool has(const std::string& path) const;
  at::Tensor read(const std::string& path) const;
  std::vector<std::string> read_strings(const std::string& path) const;
  std::optional<AttrValue> attr(const std::string& object, const std::string& name) const;
  std::vector<std::string> children(const std::string& group) const;

 private:
  // The file holding `path` and the path inside it; nullptr when the stage is not in the view.
  std::pair<const Hdf5File*, std::string> locate(const std::string& path) const;
  const Hdf5File* whole_ = nullptr;
  std::map<std::string, const Hdf5File*> stages_;
};

}  // namespace sinklab
