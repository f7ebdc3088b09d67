#include "framework/io/hdf5_store.h"

#include <algorithm>
#include <filesystem>

#include "framework/util/error.h"
#include "framework/util/strings.h"

namespace sinklab {

H5Handle& H5Handle::operator=(H5Handle&& o) noexcept {
  if (this != &o) {
    reset();
    id_ = o.id_;
    closer_ = o.closer_;
    o.id_ = -1;
  }
  return *this;
}

void H5Handle::reset() {
  if (id_ >= 0 && closer_ != nullptr) closer_(id_);
  id_ = -1;
}

herr_t H5Handle::close() {
  herr_t r = 0;
  if (id_ >= 0 && closer_ != nullptr) r = closer_(id_);
  id_ = -1;
  return r;
}

void Hdf5File::close() {
  SINKLAB_INPUT_CHECK(file_.close() >= 0, "cannot finish writing HDF5 file '{}' (disk full?)", path_);
}

std::string attr_to_string(const AttrValue& v) {
  struct {
    std::string operator()(const std::string& s) { return s; }
    std::string operator()(double d) { return fmt::format("{}", d); }
    std::string operator()(std::int64_t i) { return fmt::format("{}", i); }
    std::string operator()(const std::vector<double>& d) { return fmt::format("[{}]", fmt::join(d, ", ")); }
    std::string operator()(const std::vector<std::int64_t>& d) { return fmt::format("[{}]", fmt::join(d, ", ")); }
  } visitor;
  return std::visit(visitor, v);
}

Hdf5File::Hdf5File(const std::string& path, Mode mode) : path_(path) {
  hdf5_detail::silence_hdf5_errors();
  hid_t id = -1;
  if (mode == Mode::create) {
    id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    SINKLAB_INPUT_CHECK(id >= 0, "cannot create HDF5 file '{}' (is the directory writable?)", path);
  } else {
    SINKLAB_INPUT_CHECK(std::filesystem::exists(path), "HDF5 file '{}' does not exist", path);
    SINKLAB_INPUT_CHECK(H5Fis_hdf5(path.c_str()) > 0, "'{}' is not an HDF5 file, or it is truncated or corrupt", path);
    id = H5Fopen(path.c_str(), mode == Mode::read ? H5F_ACC_RDONLY : H5F_ACC_RDWR, H5P_DEFAULT);
    SINKLAB_INPUT_CHECK(id >= 0, "cannot open HDF5 file '{}': it is truncated or corrupt", path);
  }
  file_ = H5Handle(id, H5Fclose);
}

bool Hdf5File::has(const std::string& path) const {
  if (path == "/" || path.empty()) return true;
  // Every prefix must exist for H5Lexists to be safe.
  std::string prefix;
  for (const auto& part : split(path, '/')) {
    if (part.empty()) continue;
    prefix += "/" + part;
    if (H5Lexists(id(), prefix.c_str(), H5P_DEFAULT) <= 0) return false;
  }
  return true;
}

void Hdf5File::create_group(const std::string& path) {
  if (has(path)) return;
  H5Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  H5Handle g(H5Gcreate2(id(), path.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
  SINKLAB_CHECK(g.valid(), "cannot create group '{}' in {}", path, path_);
}

static H5Handle open_object(hid_t file, const std::string& object, const std::string& file_path) {
  hid_t id = H5Oopen(file, object.empty() ? "/" : object.c_str(), H5P_DEFAULT);
  SINKLAB_INPUT_CHECK(id >= 0, "'{}' has no object '{}'", file_path, object);
  return H5Handle(id, H5Oclose);
}

static H5Handle string_type() {
  H5Handle t(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(t.get(), H5T_VARIABLE);
  H5Tset_cset(t.get(), H5T_CSET_UTF8);
  return t;
}

void Hdf5File::set_attr(const std::string& object, const std::string& name, const AttrValue& value) {
  H5Handle obj = open_object(id(), object, path_);
  if (H5Aexists(obj.get(), name.c_str()) > 0) H5Adelete(obj.get(), name.c_str());
  auto write = [&](hid_t type, hid_t space, const void* data) {
    H5Handle a(H5Acreate2(obj.get(), name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    SINKLAB_CHECK(a.valid() && H5Awrite(a.get(), type, data) >= 0, "cannot write attribute {}:{}", object, name);
  };
  H5Handle scalar(H5Screate(H5S_SCALAR), H5Sclose);
  if (auto s = std::get_if<std::string>(&value)) {
    H5Handle t = string_type();
    const char* p = s->c_str();
    write(t.get(), scalar.get(), &p);
  } else if (auto d = std::get_if<double>(&value)) {
    write(H5T_NATIVE_DOUBLE, scalar.get(), d);
  } else if (auto i = std::get_if<std::int64_t>(&value)) {
    write(H5T_NATIVE_INT64, scalar.get(), i);
  } else if (auto dv = std::get_if<std::vector<double>>(&value)) {
    hsize_t n = dv->size();
    H5Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
    write(H5T_NATIVE_DOUBLE, space.get(), dv->data());
  } else if (auto iv = std::get_if<std::vector<std::int64_t>>(&value)) {
    hsize_t n = iv->size();
    H5Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
    write(H5T_NATIVE_INT64, space.get(), iv->data());
  }
}

void Hdf5File::write_strings(const std::string& path, const std::vector<std::string>& values, const Attrs& attrs) {
  SINKLAB_INPUT_CHECK(!has(path), "{} already has a dataset '{}'", path_, path);
  auto slash = path.find_last_of('/');
  if (slash != std::string::npos && slash > 0) create_group(path.substr(0, slash));
  hsize_t n = values.size();
  H5Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  H5Handle type = string_type();
  H5Handle ds(H5Dcreate2(id(), path.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
              H5Dclose);
  SINKLAB_CHECK(ds.valid(), "cannot create string dataset {}:{}", path_, path);
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  SINKLAB_INPUT_CHECK(n == 0 || H5Dwrite(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) >= 0,
                "cannot write string dataset {}:{}", path_, path);
  SINKLAB_INPUT_CHECK(ds.close() >= 0, "cannot write dataset '{}' to '{}' (disk full?)", path, path_);
  set_attr(path, "dtype", std::string("string"));
  for (const auto& [k, v] : attrs) set_attr(path, k, v);
}

std::vector<std::string> Hdf5File::read_strings(const std::string& path) const {
  SINKLAB_INPUT_CHECK(has(path), "'{}' has no dataset '{}'", path_, path);
  H5Handle ds(H5Dopen2(id(), path.c_str(), H5P_DEFAULT), H5Dclose);
  H5Handle type(H5Dget_type(ds.get()), H5Tclose);
  SINKLAB_INPUT_CHECK(H5Tget_class(type.get()) == H5T_STRING && H5Tis_variable_str(type.get()) > 0,
                      "{}:{} is not a dataset of variable-length strings", path_, path);
  H5Handle space(H5Dget_space(ds.get()), H5Sclose);
  std::vector<char*> ptrs(std::size_t(H5Sget_simple_extent_npoints(space.get())), nullptr);
  if (!ptrs.empty()) H5Dread(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data());
  std::vector<std::string> out;
  for (char* p : ptrs) out.emplace_back(p ? p : "");
#if H5_VERSION_GE(1, 12, 0)
  H5Treclaim(type.get(), space.get(), H5P_DEFAULT, ptrs.data());
#else
  H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, ptrs.data());
#endif
  return out;
}

static std::optional<AttrValue> read_attr(hid_t attr) {
  H5Handle type(H5Aget_type(attr), H5Tclose);
  H5Handle space(H5Aget_space(attr), H5Sclose);
  hssize_t n = H5Sget_simple_extent_npoints(space.get());
  bool scalar = H5Sget_simple_extent_ndims(space.get()) == 0;
  switch (H5Tget_class(type.get())) {
    case H5T_STRING: {
      if (H5Tis_variable_str(type.get()) > 0) {
        // Read with the attribute's own type: HDF5 does not convert between ASCII and UTF-8.
        char* p = nullptr;
        H5Aread(attr, type.get(), &p);
        std::string s = p ? p : "";
        H5free_memory(p);
        return s;
      }
      std::string s(H5Tget_size(type.get()), '\0');
      H5Aread(attr, type.get(), s.data());
      return std::string(s.c_str());
    }
    case H5T_FLOAT: {
      std::vector<double> v(n);
      H5Aread(attr, H5T_NATIVE_DOUBLE, v.data());
      if (scalar) return v.at(0);
      return v;
    }
    case H5T_INTEGER: {
      std::vector<std::int64_t> v(n);
      H5Aread(attr, H5T_NATIVE_INT64, v.data());
      if (scalar) return v.at(0);
      return v;
    }
    default:
      return std::nullopt;  // types sinklab does not write (compound, ...) are skipped
  }
}

std::optional<AttrValue> Hdf5File::attr(const std::string& object, const std::string& name) const {
  if (!has(object)) return std::nullopt;
  H5Handle obj = open_object(id(), object, path_);
  if (H5Aexists(obj.get(), name.c_str()) <= 0) return std::nullopt;
  H5Handle a(H5Aopen(obj.get(), name.c_str(), H5P_DEFAULT), H5Aclose);
  return read_attr(a.get());
}

Attrs Hdf5File::attrs(const std::string& object) const {
  H5Handle obj = open_object(id(), object, path_);
  Attrs out;
  H5O_info_t info;
#if H5_VERSION_GE(1, 12, 0)
  H5Oget_info3(obj.get(), &info, H5O_INFO_NUM_ATTRS);
#else
  H5Oget_info2(obj.get(), &info, H5O_INFO_NUM_ATTRS);
#endif
  for (hsize_t i = 0; i < info.num_attrs; ++i) {
    H5Handle a(H5Aopen_by_idx(obj.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    ssize_t len = H5Aget_name(a.get(), 0, nullptr);
    std::string name(len, '\0');
    H5Aget_name(a.get(), len + 1, name.data());
    if (auto v = read_attr(a.get())) out[name] = *v;
  }
  return out;
}

std::vector<std::string> Hdf5File::children(const std::string& group) const {
  H5Handle g(H5Gopen2(id(), group.c_str(), H5P_DEFAULT), H5Gclose);
  SINKLAB_INPUT_CHECK(g.valid(), "'{}' has no group '{}'", path_, group);
  std::vector<std::string> names;
  H5Literate(
      g.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
        static_cast<std::vector<std::string>*>(out)->push_back(name);
        return 0;
      },
      &names);
  return names;
}

std::vector<DatasetInfo> Hdf5File::datasets() const {
  std::vector<DatasetInfo> out;
  std::vector<std::string> stack{"/"};
  // A damaged or crafted file may link a group into itself: the walk is bounded.
  constexpr std::size_t kMaxObjects = 1000000;
  std::size_t visited = 0;
  while (!stack.empty()) {
    std::string group = stack.back();
    stack.pop_back();
    auto names = children(group);
    for (auto it = names.rbegin(); it != names.rend(); ++it) {
      std::string path = (group == "/" ? "" : group) + "/" + *it;
      SINKLAB_INPUT_CHECK(++visited <= kMaxObjects, "'{}' holds more than {} objects (a group linked into itself?): "
                          "it is damaged or not sinklab's", path_, kMaxObjects);
      H5O_info_t info;
#if H5_VERSION_GE(1, 12, 0)
      const herr_t got = H5Oget_info_by_name3(id(), path.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT);
#else
      const herr_t got = H5Oget_info_by_name2(id(), path.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT);
#endif
      SINKLAB_INPUT_CHECK(got >= 0, "'{}': object '{}' cannot be read: the file is truncated or corrupt", path_, path);
      if (info.type == H5O_TYPE_GROUP) {
        stack.push_back(path);
        continue;
      }
      if (info.type != H5O_TYPE_DATASET) continue;
      H5Handle ds(H5Dopen2(id(), path.c_str(), H5P_DEFAULT), H5Dclose);
      H5Handle space(H5Dget_space(ds.get()), H5Sclose);
      int rank = H5Sget_simple_extent_ndims(space.get());
      std::vector<hsize_t> dims(std::max(rank, 0));
      H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
      H5Handle dcpl(H5Dget_create_plist(ds.get()), H5Pclose);
      DatasetInfo d;
      d.path = path;
      d.shape.assign(dims.begin(), dims.end());
      d.dtype = hdf5_detail::dtype_of_dataset(ds.get());
      d.compressed = H5Pget_nfilters(dcpl.get()) > 0;
      d.attrs = attrs(path);
      out.push_back(std::move(d));
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return out;
}

void Hdf5File::copy_group_to(const std::string& src_group, Hdf5File& dst, const std::string& dst_group) const {
  dst.create_group(dst_group);
  H5Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  for (const auto& name : children(src_group)) {
    std::string from = (src_group == "/" ? "" : src_group) + "/" + name;
    std::string to = (dst_group == "/" ? "" : dst_group) + "/" + name;
    SINKLAB_CHECK(H5Ocopy(id(), from.c_str(), dst.id(), to.c_str(), H5P_DEFAULT, lcpl.get()) >= 0,
                  "cannot copy {}:{} to {}:{}", path_, from, dst.path(), to);
  }
  for (const auto& [name, value] : attrs(src_group)) dst.set_attr(dst_group, name, value);
}

}  // namespace sinklab
