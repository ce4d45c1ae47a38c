#include "kernels/cuda/cusparselt_loader.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"

namespace repro::kernels::gpu::cusparselt {

namespace {

struct Loaded {
  std::optional<Api> api;
  std::string error;
};

template <class F>
bool resolve(void* lib, const char* name, F& fn, std::string& error) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
  if (!fn) error = fmt::format("the cuSPARSELt library lacks the entry point {}", name);
  return fn != nullptr;
}

Loaded load() {
  Loaded out;
  std::vector<std::string> tried;
  if (const char* env = std::getenv("REPRO_CUSPARSELT_PATH"); env && *env) tried.emplace_back(env);
  tried.emplace_back("libcusparseLt.so.0");
  tried.emplace_back("libcusparseLt.so");
  void* lib = nullptr;
  std::string reasons;
  Api a;
  for (const std::string& name : tried) {
    lib = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib) {
      a.path = name;
      break;
    }
    const char* why = dlerror();
    reasons += fmt::format("\n  {}: {}", name, why ? why : "not found");
  }
  if (!lib) {
    out.error = fmt::format(
        "cuSPARSELt (libcusparseLt.so.0) could not be loaded; the 2:4 GPU kernels need it. Tried:{}\nInstall it "
        "(e.g. the nvidia-cusparselt-cu13 Python wheel) and put its lib folder on LD_LIBRARY_PATH, or set "
        "REPRO_CUSPARSELT_PATH to the library file.",
        reasons);
    return out;
  }
  std::string& e = out.error;
  const bool ok = resolve(lib, "cusparseLtInit", a.init, e) && resolve(lib, "cusparseLtDestroy", a.destroy, e) &&
                  resolve(lib, "cusparseLtGetProperty", a.get_property, e) &&
                  resolve(lib, "cusparseLtDenseDescriptorInit", a.dense_descriptor_init, e) &&
                  resolve(lib, "cusparseLtStructuredDescriptorInit", a.structured_descriptor_init, e) &&
                  resolve(lib, "cusparseLtMatDescriptorDestroy", a.mat_descriptor_destroy, e) &&
                  resolve(lib, "cusparseLtMatmulDescriptorInit", a.matmul_descriptor_init, e) &&
                  resolve(lib, "cusparseLtMatmulAlgSelectionInit", a.alg_selection_init, e) &&
                  resolve(lib, "cusparseLtMatmulPlanInit", a.plan_init, e) &&
                  resolve(lib, "cusparseLtMatmulPlanDestroy", a.plan_destroy, e) &&
                  resolve(lib, "cusparseLtMatmulGetWorkspace", a.get_workspace, e) &&
                  resolve(lib, "cusparseLtSpMMAPruneCheck2", a.prune_check2, e) &&
                  resolve(lib, "cusparseLtSpMMACompressedSize2", a.compressed_size2, e) &&
                  resolve(lib, "cusparseLtSpMMACompress2", a.compress2, e) &&
                  resolve(lib, "cusparseLtMatmul", a.matmul, e);
  if (!ok) {
    e = fmt::format("{} ({}): a cuSPARSELt older than 0.4?", e, a.path);
    return out;
  }
  int major = 0, minor = 0, patch = 0;  // libraryPropertyType: MAJOR_VERSION, MINOR_VERSION, PATCH_LEVEL
  if (a.get_property(0, &major) == 0 && a.get_property(1, &minor) == 0 && a.get_property(2, &patch) == 0)
    a.version = major * 1000 + minor * 100 + patch;
  out.api = a;
  return out;
}

const Loaded& loaded() {
  static const Loaded l = load();  // thread-safe one-time initialisation
  return l;
}

}  // namespace

int compute_type_fp32_accumulate(int version) { return version >= 500 ? 2 : 0; }

const Api& api() {
  const Loaded& l = loaded();
  if (!l.api) throw NotSupported(l.error);
  return *l.api;
}

bool available(std::string* why) {
  const Loaded& l = loaded();
  if (!l.api && why) *why = l.error;
  return l.api.has_value();
}

void check(Status status, const char* what) {
  if (status != 0) throw InternalError(fmt::format("{}: cuSPARSELt status {}", what, status));
}

}  // namespace repro::kernels::gpu::cusparselt
