#include "kernels/cuda/device_info.h"

#include <dlfcn.h>

#include <cuda_runtime_api.h>

#include "kernels/cuda/cuda_check.h"

namespace repro::kernels::gpu {

namespace {

// NVML's clocks and driver string, from its documented C API (nvml.h): nvmlInit_v2,
// nvmlDeviceGetHandleByIndex_v2, nvmlDeviceGetClockInfo (NVML_CLOCK_SM = 1, NVML_CLOCK_MEM = 2),
// nvmlSystemGetDriverVersion. Best effort: any failure leaves the fields as they are.
void nvml_fill(int device, DeviceInfo& d) {
  void* lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) return;
  using InitFn = int (*)();
  using HandleFn = int (*)(unsigned, void**);
  using ClockFn = int (*)(void*, int, unsigned*);
  using DriverFn = int (*)(char*, unsigned);
  auto init = reinterpret_cast<InitFn>(dlsym(lib, "nvmlInit_v2"));
  auto handle = reinterpret_cast<HandleFn>(dlsym(lib, "nvmlDeviceGetHandleByIndex_v2"));
  auto clock = reinterpret_cast<ClockFn>(dlsym(lib, "nvmlDeviceGetClockInfo"));
  auto driver = reinterpret_cast<DriverFn>(dlsym(lib, "nvmlSystemGetDriverVersion"));
  auto shutdown = reinterpret_cast<InitFn>(dlsym(lib, "nvmlShutdown"));
  if (!init || !handle || !clock || !driver || init() != 0) return;
  char buf[96] = {};
  if (driver(buf, sizeof buf) == 0) d.driver_version = buf;
  void* h = nullptr;
  // NVML numbers devices by PCI order, the runtime by speed unless CUDA_DEVICE_ORDER=PCI_BUS_ID;
  // with one device (the usual bench machine) they agree.
  if (handle(static_cast<unsigned>(device), &h) == 0) {
    unsigned mhz = 0;
    if (clock(h, 1, &mhz) == 0) d.current_sm_clock_mhz = static_cast<int>(mhz);
    if (clock(h, 2, &mhz) == 0) d.current_memory_clock_mhz = static_cast<int>(mhz);
  }
  if (shutdown) shutdown();
}

int attribute(cudaDeviceAttr a, int device) {
  int v = 0;
  check_cuda(cudaDeviceGetAttribute(&v, a, device), "cudaDeviceGetAttribute");
  return v;
}

}  // namespace

DeviceInfo device_info(int device) {
  DeviceInfo d;
  cudaDeviceProp p{};
  check_cuda(cudaGetDeviceProperties(&p, device), "cudaGetDeviceProperties");
  d.name = p.name;
  d.major = p.major;
  d.minor = p.minor;
  d.sm_count = p.multiProcessorCount;
  d.memory_bytes = static_cast<int64_t>(p.totalGlobalMem);
  d.peak_sm_clock_mhz = attribute(cudaDevAttrClockRate, device) / 1000;
  d.peak_memory_clock_mhz = attribute(cudaDevAttrMemoryClockRate, device) / 1000;
  d.memory_bus_bits = attribute(cudaDevAttrGlobalMemoryBusWidth, device);
  check_cuda(cudaDriverGetVersion(&d.driver_api_version), "cudaDriverGetVersion");
  check_cuda(cudaRuntimeGetVersion(&d.runtime_version), "cudaRuntimeGetVersion");
  nvml_fill(device, d);
  return d;
}

}  // namespace repro::kernels::gpu
