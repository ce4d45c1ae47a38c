#pragma once
// What a GPU timing record says about the device: name, compute capability, memory, clocks and
// driver. Peak clocks come from the CUDA runtime; the current SM and memory clocks from NVML
// (libnvidia-ml.so.1, loaded with dlopen; -1 when it is absent).

#include <cstdint>
#include <string>

namespace repro::kernels::gpu {

struct DeviceInfo {
  std::string name;
  int major = 0, minor = 0;          // compute capability
  int sm_count = 0;
  int64_t memory_bytes = 0;
  int peak_sm_clock_mhz = 0, peak_memory_clock_mhz = 0, memory_bus_bits = 0;
  int current_sm_clock_mhz = -1, current_memory_clock_mhz = -1;  // NVML, -1 if unavailable
  int driver_api_version = 0, runtime_version = 0;              // e.g. 13000
  std::string driver_version;        // NVML's driver string ("580.65.06"), empty if unavailable
};

// Device `device` (InternalError when it does not exist).
DeviceInfo device_info(int device = 0);

}  // namespace repro::kernels::gpu
