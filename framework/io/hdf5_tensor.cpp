// Tensor <-> HDF5 dataset conversion: type mapping, chunking and compression.
#include <ATen/ATen.h>

#include <algorithm>

#include "framework/io/hdf5_store.h"
#include "framework/util/error.h"

namespace sinklab {
namespace hdf5_detail {

void silence_hdf5_errors() {
  static const bool once = [] {
    // No library shutdown at exit: every file is closed by its owner, and after a failed close
    // (a full disk) HDF5's own cleanup crashes on the file it could not close (SIGSEGV in
    // H5F__close_cb). Must come before any other HDF5 call.
    H5dont_atexit();
    // sinklab reports HDF5 failures itself, with the file and object named.
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)once;
}

// IEEE 754 binary16, laid out as h5py does, so numpy sees float16.
static H5Handle half_type() {
  H5Handle t(H5Tcopy(H5T_IEEE_F32LE), H5Tclose);
  H5Tset_fields(t.get(), 15, 10, 5, 0, 10);
  H5Tset_precision(t.get(), 16);
  H5Tset_size(t.get(), 2);
  H5Tset_ebias(t.get(), 15);
  return t;
}

// h5py's bool: an int8 enum with FALSE = 0 and TRUE = 1.
static H5Handle bool_type() {
  H5Handle t(H5Tenum_create(H5T_NATIVE_INT8), H5Tclose);
  std::int8_t f = 0, tr = 1;
  H5Tenum_insert(t.get(), "FALSE", &f);
  H5Tenum_insert(t.get(), "TRUE", &tr);
  return t;
}

// The memory type that HDF5 reads/writes for a torch dtype (bfloat16 is handled as uint16 bits).
static H5Handle memory_type(at::ScalarType s) {
  auto copy = [](hid_t t) { return H5Handle(H5Tcopy(t), H5Tclose); };
  switch (s) {
    case at::kFloat: return copy(H5T_NATIVE_FLOAT);
    case at::kDouble: return copy(H5T_NATIVE_DOUBLE);
    case at::kHalf: return half_type();
    case at::kBFloat16: return copy(H5T_NATIVE_UINT16);
    case at::kChar: return copy(H5T_NATIVE_INT8);
    case at::kByte: return copy(H5T_NATIVE_UINT8);
    case at::kShort: return copy(H5T_NATIVE_INT16);
    case at::kInt: return copy(H5T_NATIVE_INT32);
    case at::kLong: return copy(H5T_NATIVE_INT64);
    case at::kBool: return bool_type();
    default: throw InputError(fmt::format("cannot store tensors of dtype {} in HDF5", c10::toString(s)));
  }
}

static std::string torch_name(at::ScalarType s) {
  switch (s) {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    case at::kChar: return "int8";
    case at::kByte: return "uint8";
    case at::kShort: return "int16";
    case at::kInt: return "int32";
    case at::kLong: return "int64";
    case at::kBool: return "bool";
    default: return c10::toString(s);
  }
}

static std::optional<at::ScalarType> scalar_type_named(const std::string& n) {
  for (auto s : {at::kFloat, at::kDouble, at::kHalf, at::kBFloat16, at::kChar, at::kByte, at::kShort, at::kInt,
                 at::kLong, at::kBool})
    if (torch_name(s) == n) return s;
  return std::nullopt;
}

// The torch dtype a dataset reads back as: the "dtype" attribute sinklab wrote, else inferred
// from the HDF5 type, so files written by h5py read too.
static at::ScalarType scalar_type_of(hid_t dataset) {
  if (H5Aexists(dataset, "dtype") > 0) {
    H5Handle a(H5Aopen(dataset, "dtype", H5P_DEFAULT), H5Aclose);
    H5Handle type(H5Aget_type(a.get()), H5Tclose);
    char* p = nullptr;
    if (H5Tis_variable_str(type.get()) > 0 && H5Aread(a.get(), type.get(), &p) >= 0 && p != nullptr) {
      auto s = scalar_type_named(p);
      H5free_memory(p);
      if (s) return *s;
    }
  }
  H5Handle type(H5Dget_type(dataset), H5Tclose);
  size_t size = H5Tget_size(type.get());
  switch (H5Tget_class(type.get())) {
    case H5T_FLOAT:
      return size == 2 ? at::kHalf : size == 4 ? at::kFloat : at::kDouble;
    case H5T_INTEGER: {
      bool is_signed = H5Tget_sign(type.get()) == H5T_SGN_2;
      if (size == 1) return is_signed ? at::kChar : at::kByte;
      if (size == 2) return is_signed ? at::kShort : at::kInt;
      if (size == 4) return is_signed ? at::kInt : at::kLong;
      return at::kLong;
    }
    case H5T_ENUM:
      if (size == 1 && H5Tget_nmembers(type.get()) == 2) return at::kBool;
      [[fallthrough]];
    default:
      throw InputError("dataset has an HDF5 type sinklab cannot read as a tensor (compound/string/enum)");
  }
}

std::string dtype_of_dataset(hid_t dataset) {
  H5Handle type(H5Dget_type(dataset), H5Tclose);
  if (H5Tget_class(type.get()) == H5T_STRING) return "string";
  try {
    return torch_name(scalar_type_of(dataset));
  } catch (const InputError&) {
    return "unsupported";
  }
}

// Chunks of at most ~512 KiB: halve the longest dimension until the chunk fits.
static std::vector<hsize_t> chunk_shape(const std::vector<hsize_t>& dims, size_t elem_size) {
  std::vector<hsize_t> chunk = dims;
  auto bytes = [&] {
    hsize_t n = elem_size;
    for (auto d : chunk) n *= d;
    return n;
  };
  while (bytes() > (512u << 10)) {
    auto it = std::max_element(chunk.begin(), chunk.end());
    if (*it <= 1) break;
    *it = (*it + 1) / 2;
  }
  return chunk;
}

}  // namespace hdf5_detail

using namespace hdf5_detail;

void Hdf5File::write(const std::string& path, const at::Tensor& tensor, const Attrs& attrs) {
  SINKLAB_CHECK(tensor.defined(), "writing an undefined tensor to {}:{}", path_, path);
  SINKLAB_INPUT_CHECK(!has(path), "{} already has a dataset '{}'", path_, path);
  at::Tensor t = tensor.detach().to(at::kCPU).contiguous();
  const at::ScalarType st = t.scalar_type();
  if (st == at::kBFloat16) t = t.view(at::kShort);  // the bit patterns, unchanged
  H5Handle type = memory_type(st);

  std::vector<hsize_t> dims(t.sizes().begin(), t.sizes().end());
  H5Handle space(dims.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(int(dims.size()), dims.data(), nullptr),
                 H5Sclose);
  H5Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  const size_t nbytes = size_t(t.numel()) * t.element_size();
  if (!dims.empty() && t.numel() > 0 && nbytes > (64u << 10)) {
    auto chunk = chunk_shape(dims, t.element_size());
    H5Pset_chunk(dcpl.get(), int(chunk.size()), chunk.data());
    H5Pset_shuffle(dcpl.get());
    H5Pset_deflate(dcpl.get(), 4);
  }
  H5Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  H5Handle ds(H5Dcreate2(id(), path.c_str(), type.get(), space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT),
              H5Dclose);
  SINKLAB_CHECK(ds.valid(), "cannot create dataset '{}' in {}", path, path_);
  if (t.numel() > 0)
    SINKLAB_INPUT_CHECK(H5Dwrite(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data_ptr()) >= 0,
                  "cannot write dataset '{}' in {} (disk full?)", path, path_);
  SINKLAB_INPUT_CHECK(ds.close() >= 0, "cannot write dataset '{}' to '{}' (disk full?)", path, path_);
  set_attr(path, "dtype", torch_name(st));
  if (st == at::kBFloat16)
    set_attr(path, "storage", std::string("bfloat16 bit patterns as uint16 (float32 bits = uint16 << 16); lossless"));
  for (const auto& [name, value] : attrs) set_attr(path, name, value);
}

at::Tensor Hdf5File::read(const std::string& path) const {
  SINKLAB_INPUT_CHECK(has(path), "{} has no dataset '{}'", path_, path);
  H5Handle ds(H5Dopen2(id(), path.c_str(), H5P_DEFAULT), H5Dclose);
  SINKLAB_INPUT_CHECK(ds.valid(), "{}: '{}' is not a dataset", path_, path);
  at::ScalarType st;
  try {
    st = scalar_type_of(ds.get());
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}:{}: {}", path_, path, e.what()));
  }
  H5Handle space(H5Dget_space(ds.get()), H5Sclose);
  int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(std::max(rank, 0));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  std::vector<int64_t> sizes(dims.begin(), dims.end());
  at::Tensor out = at::empty(sizes, at::TensorOptions().dtype(st == at::kBFloat16 ? at::kShort : st));
  H5Handle type = memory_type(st);
  if (out.numel() > 0)
    SINKLAB_INPUT_CHECK(H5Dread(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data_ptr()) >= 0,
                        "{}: dataset '{}' cannot be read (corrupt file?)", path_, path);
  return st == at::kBFloat16 ? out.view(at::kBFloat16) : out;
}

}  // namespace sinklab
