#pragma once
// A tensor whose storage is a scratch file instead of anonymous memory: the file is created in
// `dir`, mapped shared and unlinked at once, so its pages are file-backed (the kernel writes them
// out under memory pressure and reads them back on use, instead of the process running out of
// memory) and nothing is left on disk when the tensor goes, however the process ends.
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace sinklab {

// Zero-filled, contiguous, on the CPU. InputError naming `dir` when the file cannot be made
// (a full disk shows when the pages are written: the kernel then raises SIGBUS).
at::Tensor scratch_tensor(const std::string& dir, const std::vector<std::int64_t>& sizes, at::ScalarType dtype);

}  // namespace sinklab
