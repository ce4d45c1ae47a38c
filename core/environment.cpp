#include "core/environment.h"

#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

#include <ATen/Parallel.h>
#include <torch/version.h>

#include "core/strings.h"
#include "repro_build_info.h"

#ifdef REPRO_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAFunctions.h>
#include <cuda_runtime_api.h>
#endif

namespace repro {

std::string detect_blas() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  bool reference = false;
  while (std::getline(maps, line)) {
    if (line.find("libopenblas") != std::string::npos) return "openblas";
    if (line.find("libmkl") != std::string::npos) return "mkl";
    if (line.find("libblis") != std::string::npos) return "blis";
    if (line.find("libcblas") != std::string::npos || line.find("/libblas.so") != std::string::npos) reference = true;
  }
  // MKL is linked statically into the PyTorch wheels' libtorch.
  return reference ? "reference" : "builtin";
}

namespace {
std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (starts_with(line, "model name")) {
      auto pos = line.find(':');
      if (pos != std::string::npos) return trim(line.substr(pos + 1));
    }
  }
  return "unknown";
}
}  // namespace

#ifdef REPRO_WITH_CUDA
namespace {
// CUDA's integer versions (12040) as "12.4".
std::string cuda_version_text(int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); }
}  // namespace
#endif

bool built_with_cuda() {
#ifdef REPRO_WITH_CUDA
  return true;
#else
  return false;
#endif
}

nlohmann::json capture_environment(const c10::Device& device) {
  nlohmann::json env;
  env["git"] = REPRO_GIT_REVISION;
  env["compiler"] = REPRO_COMPILER;
  env["build_type"] = REPRO_BUILD_TYPE;
  env["libtorch"] = TORCH_VERSION;
  env["blas"] = detect_blas();
  env["cpu"] = cpu_model();
  env["cores"] = std::thread::hardware_concurrency();
  env["threads"] = at::get_num_threads();
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  env["hostname"] = host;
  env["cuda"] = nullptr;
  env["gpu"] = nullptr;
  env["gpu_memory_mb"] = nullptr;
  env["gpu_capability"] = nullptr;
  env["gpu_driver"] = nullptr;
#ifdef REPRO_WITH_CUDA
  if (int rt = 0; cudaRuntimeGetVersion(&rt) == cudaSuccess) env["cuda"] = cuda_version_text(rt);
  if (device.is_cuda() && c10::cuda::device_count() > 0) {
    const int index = device.has_index() ? device.index() : c10::cuda::current_device();
    const cudaDeviceProp* prop = at::cuda::getDeviceProperties(index);
    env["gpu"] = std::string(prop->name);
    env["gpu_memory_mb"] = static_cast<double>(prop->totalGlobalMem) / (1024.0 * 1024.0);
    env["gpu_capability"] = std::to_string(prop->major) + "." + std::to_string(prop->minor);
    if (int drv = 0; cudaDriverGetVersion(&drv) == cudaSuccess) env["gpu_driver"] = cuda_version_text(drv);
  }
#else
  (void)device;
#endif
  return env;
}

}  // namespace repro
