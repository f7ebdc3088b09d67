#include "framework/io/safetensors.h"

#include <ATen/ATen.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <cerrno>
#include <mutex>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "framework/io/atomic_file.h"
#include "framework/util/error.h"
#include "framework/util/strings.h"

namespace sinklab {
namespace {

const std::vector<std::pair<std::string, at::ScalarType>>& dtype_table() {
  static const std::vector<std::pair<std::string, at::ScalarType>> table{
      {"F64", at::kDouble}, {"F32", at::kFloat}, {"F16", at::kHalf}, {"BF16", at::kBFloat16}, {"I64", at::kLong},
      {"I32", at::kInt},    {"I16", at::kShort}, {"I8", at::kChar},  {"U8", at::kByte},       {"BOOL", at::kBool}};
  return table;
}

at::ScalarType scalar_type_of(const std::string& dtype) {
  for (const auto& [name, st] : dtype_table())
    if (name == dtype) return st;
  SINKLAB_CHECK(false, "unknown safetensors dtype {}", dtype);
  return at::kFloat;
}

std::string dtype_name(at::ScalarType st) {
  for (const auto& [name, s] : dtype_table())
    if (s == st) return name;
  throw InputError(fmt::format("safetensors cannot store dtype {}", c10::toString(st)));
}

}  // namespace

// Every live mapping, so that discard_mapped_writes only ever drops pages of a file mapping
// (MADV_DONTNEED on anonymous memory would zero it).
static std::mutex g_mappings_mutex;
static std::map<std::uintptr_t, std::size_t> g_mappings;  // start -> length

struct SafetensorsFile::Mapping {
  void* data = MAP_FAILED;
  std::size_t size = 0;
  void map(int fd, std::size_t bytes) {
    size = bytes;
    data = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (data == MAP_FAILED) return;
    std::lock_guard<std::mutex> lock(g_mappings_mutex);
    g_mappings[reinterpret_cast<std::uintptr_t>(data)] = size;
  }
  ~Mapping() {
    if (data == MAP_FAILED) return;
    {
      std::lock_guard<std::mutex> lock(g_mappings_mutex);
      g_mappings.erase(reinterpret_cast<std::uintptr_t>(data));
    }
    munmap(data, size);
  }
};

std::size_t discard_mapped_writes(const at::Tensor& t) {
  if (!t.defined() || !t.device().is_cpu() || !t.is_contiguous() || t.numel() == 0) return 0;
  const auto begin = reinterpret_cast<std::uintptr_t>(t.data_ptr());
  const auto end = begin + std::size_t(t.numel()) * t.element_size();
  {
    std::lock_guard<std::mutex> lock(g_mappings_mutex);
    auto it = g_mappings.upper_bound(begin);
    if (it == g_mappings.begin()) return 0;
    --it;
    if (end > it->first + it->second) return 0;  // not inside one mapping
  }
  const auto page = std::uintptr_t(sysconf(_SC_PAGESIZE));
  const std::uintptr_t first = (begin + page - 1) / page * page, last = end / page * page;
  if (last <= first) return 0;
  if (madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED) != 0) return 0;
  return last - first;
}

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path), map_(std::make_shared<Mapping>()) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  SINKLAB_INPUT_CHECK(fd >= 0, "cannot open safetensors file '{}': {}", path, std::strerror(errno));
  struct stat st {};
  fstat(fd, &st);
  if (st.st_size > 0) map_->map(fd, std::size_t(st.st_size));
  ::close(fd);
  SINKLAB_INPUT_CHECK(map_->size >= 8, "'{}' is too short to be a safetensors file ({} bytes)", path, map_->size);
  SINKLAB_INPUT_CHECK(map_->data != MAP_FAILED, "cannot map '{}': {}", path, std::strerror(errno));
  const auto* bytes = static_cast<const unsigned char*>(map_->data);
  std::uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];
  SINKLAB_INPUT_CHECK(header_len <= map_->size - 8, "'{}': header length {} runs past the end of the file ({} bytes)",
                      path, header_len, map_->size);
  data_start_ = 8 + header_len;
  nlohmann::ordered_json header;
  try {
    header = nlohmann::ordered_json::parse(reinterpret_cast<const char*>(bytes + 8),
                                           reinterpret_cast<const char*>(bytes + data_start_));
  } catch (const std::exception& e) {
    throw InputError(fmt::format("'{}': the header is not valid JSON: {}", path, e.what()));
  }
  SINKLAB_INPUT_CHECK(header.is_object(), "'{}': the header must be a JSON object", path);
  const std::size_t data_size = map_->size - data_start_;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    if (name == "__metadata__") {
      for (auto m = it->begin(); m != it->end(); ++m)
        metadata_[m.key()] = m->is_string() ? m->get<std::string>() : m->dump();
      continue;
    }
    try {
      SafetensorInfo info;
      info.dtype = it->at("dtype").get<std::string>();
      bool known = std::any_of(dtype_table().begin(), dtype_table().end(), [&](auto& d) { return d.first == info.dtype; });
      SINKLAB_INPUT_CHECK(known, "'{}': tensor '{}' has unknown dtype '{}'", path, name, info.dtype);
      info.shape = it->at("shape").get<std::vector<std::int64_t>>();
      auto offsets = it->at("data_offsets").get<std::vector<std::size_t>>();
      SINKLAB_INPUT_CHECK(offsets.size() == 2 && offsets[0] <= offsets[1] && offsets[1] <= data_size,
                          "'{}': tensor '{}' has data offsets outside the file's {} data bytes (truncated?)", path,
                          name, data_size);
      info.begin = offsets[0];
      info.end = offsets[1];
      // Checked at every step so that the product cannot wrap around (to the byte count claimed).
      const std::size_t element = c10::elementSize(scalar_type_of(info.dtype));
      std::size_t numel = 1;
      const bool zero = std::find(info.shape.begin(), info.shape.end(), 0) != info.shape.end();
      for (auto d : info.shape) {
        SINKLAB_INPUT_CHECK(d >= 0, "'{}': tensor '{}' has a negative dimension", path, name);
        SINKLAB_INPUT_CHECK(zero || std::size_t(d) <= std::numeric_limits<std::size_t>::max() / element / numel,
                            "'{}': tensor '{}' has shape [{}]: more elements than any file holds", path, name,
                            fmt::join(info.shape, ", "));
        numel = zero ? 0 : numel * std::size_t(d);
      }
      std::size_t expected = numel * element;
      SINKLAB_INPUT_CHECK(info.end - info.begin == expected, "'{}': tensor '{}' has {} bytes but shape [{}] {} needs {}",
                          path, name, info.end - info.begin, fmt::join(info.shape, ", "), info.dtype, expected);
      info_[name] = info;
      order_.push_back(name);
    } catch (const nlohmann::json::exception& e) {
      throw InputError(fmt::format("'{}': tensor '{}' has a malformed header entry: {}", path, name, e.what()));
    }
  }
  // Tensors must not share bytes.
  std::vector<const SafetensorInfo*> sorted;
  for (const auto& [n, i] : info_) sorted.push_back(&i);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->begin < b->begin; });
  for (std::size_t i = 1; i < sorted.size(); ++i)
    SINKLAB_INPUT_CHECK(sorted[i]->begin >= sorted[i - 1]->end || sorted[i]->begin == sorted[i]->end,
                        "'{}': tensors overlap in the data section (offset {})", path, sorted[i]->begin);
}

std::vector<std::string> SafetensorsFile::names() const { return order_; }

const SafetensorInfo& SafetensorsFile::info(const std::string& name) const {
  auto it = info_.find(name);
  SINKLAB_INPUT_CHECK(it != info_.end(), "'{}' has no tensor '{}'{}", path_, name, did_you_mean(name, order_));
  return it->second;
}

at::Tensor SafetensorsFile::tensor(const std::string& name) const {
  const SafetensorInfo& i = info(name);
  auto st = scalar_type_of(i.dtype);
  char* ptr = static_cast<char*>(map_->data) + data_start_ + i.begin;
  auto opts = at::TensorOptions().dtype(st);
  if (reinterpret_cast<std::uintptr_t>(ptr) % c10::elementSize(st) != 0) {
    // Misaligned data (a writer that did not pad the header): copy instead of viewing.
    auto out = at::empty(i.shape, opts);
    std::memcpy(out.data_ptr(), ptr, i.end - i.begin);
    return out;
  }
  auto keep = map_;
  return at::from_blob(ptr, i.shape, [keep](void*) {}, opts);
}

void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header;
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<at::Tensor> data;
  std::size_t offset = 0;
  for (const auto& [name, t] : tensors) {
    SINKLAB_CHECK(!header.contains(name), "tensor '{}' written twice to {}", name, path);
    at::Tensor c = t.detach().to(at::kCPU).contiguous();
    std::size_t bytes = std::size_t(c.numel()) * c.element_size();
    header[name] = {{"dtype", dtype_name(c.scalar_type())}, {"shape", c.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    data.push_back(c);
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');  // keeps tensor data 8-byte aligned
  std::string tmp = temporary_path_for(path);
  {
    std::ofstream out(tmp, std::ios::binary);
    SINKLAB_INPUT_CHECK(out.good(), "cannot write '{}'", tmp);
    std::uint64_t n = json.size();
    for (int i = 0; i < 8; ++i) out.put(char((n >> (8 * i)) & 0xff));
    out << json;
    for (const auto& c : data) out.write(static_cast<const char*>(c.data_ptr()), std::streamsize(c.numel() * c.element_size()));
    SINKLAB_INPUT_CHECK(out.good(), "writing '{}' failed (disk full?)", tmp);
  }
  commit_file(tmp, path);
}

}  // namespace sinklab
