#include "framework/util/threads.h"

#include <ATen/Parallel.h>
#include <ATen/Context.h>
#include <torch/cuda.h>

#include "framework/util/error.h"
#include "framework/util/system.h"

namespace sinklab {

int configure_threads(int requested) {
  int n = requested > 0 ? requested : int(hardware_threads());
  at::set_num_threads(n);
  return at::get_num_threads();
}

bool cuda_available() { return at::globalContext().hasCUDA(); }

int cuda_device_count() {
  return cuda_available() ? int(torch::cuda::device_count()) : 0;
}

c10::Device resolve_device(const std::string& name) {
  if (name == "auto") return cuda_available() ? c10::Device(c10::DeviceType::CUDA, 0) : c10::Device(c10::DeviceType::CPU);
  c10::Device device(c10::DeviceType::CPU);
  try {
    device = c10::Device(name);
  } catch (const std::exception&) {
    throw InputError(fmt::format("unknown device '{}': use cpu, cuda, cuda:N or auto", name));
  }
  SINKLAB_INPUT_CHECK(device.is_cpu() || device.is_cuda(), "device '{}' is not supported: use cpu, cuda or auto", name);
  SINKLAB_INPUT_CHECK(!device.is_cuda() || cuda_available(),
                      "device '{}' was asked for but this LibTorch/machine has no CUDA; use --device cpu or auto",
                      name);
  return device;
}

}  // namespace sinklab
