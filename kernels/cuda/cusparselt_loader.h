#pragma once
// cuSPARSELt (NVIDIA's structured-sparsity GEMM library), loaded with dlopen at run time: no
// header or library is needed to build, and a machine without it gets a NotSupported error naming
// the library and how to provide it. The entry points and opaque objects are declared here from
// NVIDIA's public cuSPARSELt documentation (docs.nvidia.com/cuda/cusparselt, "cuSPARSELt Data
// Types" and "cuSPARSELt Functions"): the opaque objects are caller-allocated byte arrays, so we
// allocate generously (kOpaqueBytes, larger than any published size) and 16-byte aligned.
//
// Library search order: $REPRO_CUSPARSELT_PATH (a file), then libcusparseLt.so.0 and
// libcusparseLt.so on the loader's path (LD_LIBRARY_PATH; the nvidia-cusparselt-cu13 Python wheel
// ships it in nvidia/cusparselt/lib).

#include <cstddef>
#include <cstdint>
#include <string>

#include <cuda_runtime_api.h>
#include <library_types.h>

namespace repro::kernels::gpu::cusparselt {

inline constexpr size_t kOpaqueBytes = 16384;
struct alignas(16) Opaque {
  unsigned char data[kOpaqueBytes];
};
// Stand-ins for the library's opaque structs (cusparseLtHandle_t etc.): all caller-allocated.
using Handle = Opaque;
using MatDescriptor = Opaque;
using MatmulDescriptor = Opaque;
using AlgSelection = Opaque;
using Plan = Opaque;

// Enumerator values of the documented ABI (cuSPARSE's status, operation and order types).
using Status = int;                  // cusparseStatus_t: 0 = success
inline constexpr int kOpNonTranspose = 0, kOpTranspose = 1;  // cusparseOperation_t
inline constexpr int kOrderCol = 1, kOrderRow = 2;           // cusparseOrder_t
inline constexpr int kSparsity50 = 0;                        // CUSPARSELT_SPARSITY_50_PERCENT
inline constexpr int kAlgDefault = 0;                        // CUSPARSELT_MATMUL_ALG_DEFAULT
// cusparseComputeType: 0.5 and later number it 32I = 0, 16F = 1, 32F = 2 (fp16 inputs with fp32
// accumulation take 32F); 0.4 and earlier 16F = 0 (fp32 accumulation for fp16 inputs).
int compute_type_fp32_accumulate(int version);

// The entry points we use, resolved from the library.
struct Api {
  int version = 0;  // major * 1000 + minor * 100 + patch
  std::string path;
  Status (*init)(Handle*) = nullptr;
  Status (*destroy)(const Handle*) = nullptr;
  Status (*get_property)(int, int*) = nullptr;
  Status (*dense_descriptor_init)(const Handle*, MatDescriptor*, int64_t, int64_t, int64_t, uint32_t, cudaDataType,
                                  int) = nullptr;
  Status (*structured_descriptor_init)(const Handle*, MatDescriptor*, int64_t, int64_t, int64_t, uint32_t,
                                       cudaDataType, int, int) = nullptr;
  Status (*mat_descriptor_destroy)(const MatDescriptor*) = nullptr;
  Status (*matmul_descriptor_init)(const Handle*, MatmulDescriptor*, int, int, const MatDescriptor*,
                                   const MatDescriptor*, const MatDescriptor*, const MatDescriptor*, int) = nullptr;
  Status (*alg_selection_init)(const Handle*, AlgSelection*, const MatmulDescriptor*, int) = nullptr;
  Status (*plan_init)(const Handle*, Plan*, const MatmulDescriptor*, const AlgSelection*) = nullptr;
  Status (*plan_destroy)(const Plan*) = nullptr;
  Status (*get_workspace)(const Handle*, const Plan*, size_t*) = nullptr;
  Status (*prune_check2)(const Handle*, const MatDescriptor*, int, int, const void*, int*, cudaStream_t) = nullptr;
  Status (*compressed_size2)(const Handle*, const MatDescriptor*, size_t*, size_t*) = nullptr;
  Status (*compress2)(const Handle*, const MatDescriptor*, int, int, const void*, void*, void*, cudaStream_t) = nullptr;
  Status (*matmul)(const Handle*, const Plan*, const void*, const void*, const void*, const void*, const void*, void*,
                   void*, cudaStream_t*, int32_t) = nullptr;
};

// The loaded library (loaded once, on first use; thread-safe). NotSupported when it cannot be
// loaded or lacks an entry point, naming the library, the paths tried and what dlopen said.
const Api& api();

// Whether api() would succeed; `why` gets its error message when not.
bool available(std::string* why = nullptr);

// Throws InternalError naming `what` and the status when status != 0.
void check(Status status, const char* what);

}  // namespace repro::kernels::gpu::cusparselt
