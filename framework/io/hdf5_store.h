#pragma once
// An HDF5 file of tensors and attributes (the format of run.h5 and of every cache entry).
//
// Tensors of any rank in float32/64, float16, bfloat16, int8/16/32/64, uint8 and bool.
// float16 is stored as an IEEE half type (h5py reads it as float16); bfloat16 has no HDF5 or
// numpy type, so its exact bit patterns are stored as uint16 with attributes dtype="bfloat16"
// and storage explaining the encoding - lossless, and read back as bfloat16 here. bool uses
// h5py's convention (an int8 enum FALSE=0/TRUE=1). Datasets larger than 64 KiB are chunked
// and compressed (shuffle + deflate). Every dataset carries a "dtype" attribute.
// Paths are "/"-separated; intermediate groups are created on write.
#include <ATen/core/Tensor.h>
#include <hdf5.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace sinklab {

using AttrValue = std::variant<std::string, double, std::int64_t, std::vector<double>, std::vector<std::int64_t>>;
using Attrs = std::map<std::string, AttrValue>;
std::string attr_to_string(const AttrValue& v);

struct DatasetInfo {
  std::string path;               // "/stage/tensor"
  std::vector<std::int64_t> shape;
  std::string dtype;              // torch name: float32, bfloat16, bool, ...
  bool compressed = false;
  Attrs attrs;
};

// Owns one HDF5 identifier and closes it with the right H5?close.
class H5Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  H5Handle() = default;
  H5Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  H5Handle(H5Handle&& o) noexcept : id_(o.id_), closer_(o.closer_) { o.id_ = -1; }
  H5Handle& operator=(H5Handle&& o) noexcept;
  H5Handle(const H5Handle&) = delete;
  H5Handle& operator=(const H5Handle&) = delete;
  ~H5Handle() { reset(); }
  void reset();     // closes, ignoring failure (destructors, read paths)
  herr_t close();   // closes and says whether it worked: a written file's data reach the disk here
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

class Hdf5File {
 public:
  enum class Mode { read, create, append };
  // create truncates; read and append require an existing, intact HDF5 file (else InputError).
  Hdf5File(const std::string& path, Mode mode);
  // Writes what HDF5 still buffers; a failure (a full disk) is an InputError, never a file that
  // looks complete.
  void close();
  const std::string& path() const { return path_; }
  hid_t id() const { return file_.get(); }

  void write(const std::string& path, const at::Tensor& tensor, const Attrs& attrs = {});
  at::Tensor read(const std::string& path) const;
  // A 1-d dataset of variable-length UTF-8 strings (h5py: f[path].asstr()[:]); dtype "string".
  void write_strings(const std::string& path, const std::vector<std::string>& values, const Attrs& attrs = {});
  std::vector<std::string> read_strings(const std::string& path) const;
  bool has(const std::string& path) const;
  void create_group(const std::string& path);

  void set_attr(const std::string& object, const std::string& name, const AttrValue& value);
  std::optional<AttrValue> attr(const std::string& object, const std::string& name) const;
  Attrs attrs(const std::string& object) const;

  std::vector<std::string> children(const std::string& group) const;  // link names, sorted
  std::vector<DatasetInfo> datasets() const;                           // every dataset, recursively
  // Copies every child of `src_group` (and its attributes) into `dst_group` of `dst`.
  void copy_group_to(const std::string& src_group, Hdf5File& dst, const std::string& dst_group) const;

 private:
  std::string path_;
  H5Handle file_;
};

// Internal to io/: torch dtype <-> HDF5 type mapping (hdf5_tensor.cpp).
namespace hdf5_detail {
std::string dtype_of_dataset(hid_t dataset);
void silence_hdf5_errors();
}  // namespace hdf5_detail

}  // namespace sinklab
