#include "framework/io/scratch_tensor.h"

#include <ATen/ATen.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "framework/util/error.h"

namespace sinklab {

at::Tensor scratch_tensor(const std::string& dir, const std::vector<std::int64_t>& sizes, at::ScalarType dtype) {
  std::size_t bytes = c10::elementSize(dtype);
  for (auto s : sizes) {
    SINKLAB_CHECK(s >= 0, "negative scratch tensor size");
    bytes *= std::size_t(s);
  }
  std::filesystem::create_directories(dir);
  std::string path = (std::filesystem::path(dir) / "scratch.XXXXXX").string();
  const int fd = ::mkstemp(path.data());
  SINKLAB_INPUT_CHECK(fd >= 0, "cannot create a scratch file in '{}': {}", dir, std::strerror(errno));
  ::unlink(path.c_str());  // the mapping keeps it alive; nothing outlives the process
  // Reserve the blocks now, so a disk too small fails here with a message, not later with SIGBUS.
  const int reserved = bytes == 0 ? 0 : ::posix_fallocate(fd, 0, off_t(bytes));
  if (reserved != 0) {
    ::close(fd);
    throw InputError(fmt::format("cannot reserve {:.2f} GiB for a scratch file in '{}': {}", double(bytes) / (1 << 30),
                                 dir, std::strerror(reserved)));
  }
  void* p = bytes == 0 ? nullptr : ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  SINKLAB_INPUT_CHECK(p != MAP_FAILED, "cannot map a scratch file in '{}': {}", dir, std::strerror(errno));
  if (bytes == 0) return at::zeros(sizes, at::TensorOptions().dtype(dtype));
  return at::from_blob(
      p, sizes, [bytes](void* q) { ::munmap(q, bytes); }, at::TensorOptions().dtype(dtype));
}

}  // namespace sinklab
