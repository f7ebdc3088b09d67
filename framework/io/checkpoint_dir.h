#pragma once
// A HuggingFace checkpoint directory's weights: `model.safetensors`, or shards listed in
// `model.safetensors.index.json`. Shards are memory-mapped; tensors are looked up by name and
// every lookup is remembered, so the loader can report tensors it never used.
#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "framework/io/safetensors.h"

namespace sinklab {

class CheckpointDir {
 public:
  explicit CheckpointDir(const std::string& dir);
  const std::string& dir() const { return dir_; }
  bool has(const std::string& name) const { return where_.count(name) > 0; }
  // The tensor as stored (dtype of the file); an InputError names the missing tensor.
  at::Tensor tensor(const std::string& name);
  // The tensor converted to `dtype`, after checking it has `shape` (which config.json implies).
  at::Tensor tensor(const std::string& name, const std::vector<std::int64_t>& shape, at::ScalarType dtype);
  const SafetensorInfo& info(const std::string& name) const;  // dtype and shape, without reading data
  std::vector<std::string> names() const;
  std::vector<std::string> unused() const;   // names never asked for
  std::vector<std::string> files() const;    // the shard paths

 private:
  std::string dir_;
  std::map<std::string, std::shared_ptr<SafetensorsFile>> shards_;  // file name -> shard
  std::map<std::string, std::string> where_;                        // tensor -> file name
  std::set<std::string> used_;
};

}  // namespace sinklab
