#include "framework/io/checkpoint_dir.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "framework/io/atomic_file.h"
#include "framework/util/error.h"
#include "framework/util/strings.h"

namespace fs = std::filesystem;

namespace sinklab {

CheckpointDir::CheckpointDir(const std::string& dir) : dir_(dir) {
  SINKLAB_INPUT_CHECK(fs::is_directory(dir), "checkpoint directory '{}' does not exist", dir);
  const fs::path index = fs::path(dir) / "model.safetensors.index.json", single = fs::path(dir) / "model.safetensors";
  if (fs::exists(index)) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_file(index.string()));
      for (const auto& [name, file] : j.at("weight_map").items()) where_[name] = file.get<std::string>();
    } catch (const nlohmann::json::exception& e) {
      throw InputError(fmt::format("'{}' is not a valid safetensors index: {}", index.string(), e.what()));
    }
    for (const auto& [name, file] : where_) {
      if (shards_.count(file)) continue;
      fs::path p = fs::path(dir) / file;
      SINKLAB_INPUT_CHECK(fs::exists(p), "shard '{}' listed in {} (for tensor '{}') is missing", p.string(),
                          index.filename().string(), name);
      shards_[file] = std::make_shared<SafetensorsFile>(p.string());
    }
    for (const auto& [name, file] : where_)
      SINKLAB_INPUT_CHECK(shards_.at(file)->has(name), "index says '{}' is in {}, but it is not", name, file);
  } else {
    SINKLAB_INPUT_CHECK(fs::exists(single), "'{}' has neither model.safetensors nor model.safetensors.index.json",
                        dir);
    shards_["model.safetensors"] = std::make_shared<SafetensorsFile>(single.string());
    for (const auto& name : shards_["model.safetensors"]->names()) where_[name] = "model.safetensors";
  }
}

at::Tensor CheckpointDir::tensor(const std::string& name) {
  auto it = where_.find(name);
  if (it == where_.end()) {
    std::vector<std::string> names;
    for (const auto& [n, f] : where_) names.push_back(n);
    throw InputError(fmt::format("checkpoint '{}' has no tensor '{}'{}", dir_, name, did_you_mean(name, names)));
  }
  used_.insert(name);
  return shards_.at(it->second)->tensor(name);
}

at::Tensor CheckpointDir::tensor(const std::string& name, const std::vector<std::int64_t>& shape, at::ScalarType dtype) {
  at::Tensor t = tensor(name);
  SINKLAB_INPUT_CHECK(t.sizes().vec() == shape, "{}: tensor '{}' has shape [{}], config.json implies [{}]", dir_, name,
                      fmt::join(t.sizes(), ", "), fmt::join(shape, ", "));
  return t.to(dtype);
}

const SafetensorInfo& CheckpointDir::info(const std::string& name) const {
  auto it = where_.find(name);
  SINKLAB_INPUT_CHECK(it != where_.end(), "checkpoint '{}' has no tensor '{}'", dir_, name);
  return shards_.at(it->second)->info(name);
}

std::vector<std::string> CheckpointDir::names() const {
  std::vector<std::string> out;
  for (const auto& [n, f] : where_) out.push_back(n);
  return out;
}

std::vector<std::string> CheckpointDir::unused() const {
  std::vector<std::string> out;
  for (const auto& [n, f] : where_)
    if (!used_.count(n)) out.push_back(n);
  return out;
}

std::vector<std::string> CheckpointDir::files() const {
  std::vector<std::string> out;
  for (const auto& [f, s] : shards_) out.push_back(s->path());
  return out;
}

}  // namespace sinklab
