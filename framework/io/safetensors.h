#pragma once
// The safetensors format (HuggingFace): 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}, then the data.
//
// Reading memory-maps the file (copy-on-write) and hands out tensors that view the mapping, so
// loading never holds two copies of the weights. The header is checked strictly: length within
// the file, known dtypes, offsets inside the data section, sizes matching shapes, no overlaps.
// Every problem is an InputError naming the file and the tensor.
#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sinklab {

struct SafetensorInfo {
  std::string dtype;  // "F32", "BF16", ...
  std::vector<std::int64_t> shape;
  std::size_t begin = 0, end = 0;  // byte offsets into the data section
};

class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);
  const std::string& path() const { return path_; }
  std::vector<std::string> names() const;  // in file order
  bool has(const std::string& name) const { return info_.count(name) > 0; }
  const SafetensorInfo& info(const std::string& name) const;
  // A CPU tensor viewing the mapped file (it keeps the mapping alive).
  at::Tensor tensor(const std::string& name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  struct Mapping;
  std::string path_;
  std::shared_ptr<Mapping> map_;
  std::size_t data_start_ = 0;
  std::vector<std::string> order_;
  std::map<std::string, SafetensorInfo> info_;
  std::map<std::string, std::string> metadata_;
};

// Gives back the memory of writes into `t` where `t` views a mapped safetensors file: its
// copy-on-write pages are dropped and `t` reads as the file again (a pruned block, once saved,
// stops costing anonymous memory). Only whole pages inside `t`; returns the bytes released, 0
// when `t` is no such view (a converted copy, a GPU tensor).
std::size_t discard_mapped_writes(const at::Tensor& t);

// Writes tensors (any device, made contiguous on the CPU) atomically.
void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace sinklab
