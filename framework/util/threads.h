#pragma once
// Compute resources: CPU thread count and the torch device.
#include <c10/core/Device.h>

#include <string>

namespace sinklab {

// Sets ATen's intra-op threads: `requested` > 0 is used as is, 0 means all usable CPUs.
// (LibTorch here starts with 1 thread, which wastes the machine.) Returns the count set.
int configure_threads(int requested);

// "cpu", "cuda", "cuda:1" or "auto" (cuda when available, else cpu). Asking for cuda on a
// machine without it is an InputError that says so.
c10::Device resolve_device(const std::string& name);

bool cuda_available();
int cuda_device_count();

}  // namespace sinklab
