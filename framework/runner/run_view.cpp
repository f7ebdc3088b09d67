#include "framework/runner/run_view.h"

#include "framework/util/error.h"

namespace sinklab {

RunView::RunView(const Hdf5File& run) : whole_(&run) {}

RunView::RunView(std::map<std::string, const Hdf5File*> stages) : stages_(std::move(stages)) {}

std::pair<const Hdf5File*, std::string> RunView::locate(const std::string& path) const {
  if (whole_) return {whole_, path};
  SINKLAB_CHECK(!path.empty() && path[0] == '/', "run paths are absolute (/<stage>/...): '{}'", path);
  const auto slash = path.find('/', 1);
  const std::string stage = path.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
  auto it = stages_.find(stage);
  if (it == stages_.end()) return {nullptr, ""};
  return {it->second, slash == std::string::npos ? "/" : path.substr(slash)};
}

bool RunView::has(const std::string& path) const {
  auto [file, inner] = locate(path);
  return file && (inner == "/" || file->has(inner));
}

at::Tensor RunView::read(const std::string& path) const {
  auto [file, inner] = locate(path);
  SINKLAB_CHECK(file, "the run has no stage for '{}'", path);
  return file->read(inner);
}

std::vector<std::string> RunView::read_strings(const std::string& path) const {
  auto [file, inner] = locate(path);
  SINKLAB_CHECK(file, "the run has no stage for '{}'", path);
  return file->read_strings(inner);
}

std::optional<AttrValue> RunView::attr(const std::string& object, const std::string& name) const {
  auto [file, inner] = locate(object);
  if (!file) return std::nullopt;
  return file->attr(inner, name);
}

std::vector<std::string> RunView::children(const std::string& group) const {
  if (!whole_ && (group == "/" || group.empty())) {
    std::vector<std::string> names;
    for (const auto& s : stages_) names.push_back(s.first);
    return names;
  }
  auto [file, inner] = locate(group);
  SINKLAB_CHECK(file, "the run has no stage for '{}'", group);
  return file->children(inner);
}

}  // namespace sinklab
