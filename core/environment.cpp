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

nlohmann::json capture_environment() {
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
  env["gpu_driver"] = nullptr;
#ifdef REPRO_WITH_CUDA
  int n = 0;
  if (cudaGetDeviceCount(&n) == cudaSuccess && n > 0) {
    int dev = 0;
    cudaGetDevice(&dev);
    cudaDeviceProp prop{};
    cudaGetDeviceProperties(&prop, dev);
    env["gpu"] = prop.name;
    int drv = 0, rt = 0;
    cudaDriverGetVersion(&drv);
    cudaRuntimeGetVersion(&rt);
    env["gpu_driver"] = std::to_string(drv / 1000) + "." + std::to_string((drv % 1000) / 10);
    env["cuda"] = std::to_string(rt / 1000) + "." + std::to_string((rt % 1000) / 10);
  }
#endif
  return env;
}

}  // namespace repro
