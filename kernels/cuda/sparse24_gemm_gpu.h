#pragma once
// 2:4 semi-structured sparse GEMM on the sparse tensor cores through cuSPARSELt (loaded at run
// time, cusparselt_loader.h): y = x W^T + beta y, W [out, in] fp16 keeping at most 2 of every 4
// consecutive entries along `in`. The weight is checked and compressed once, at construction;
// plans are made per (batch, ldx, ldy) on first use and cached.
//
// Shapes: out and in multiples of 16 and batch a multiple of 8 (cuSPARSELt's fp16 tile
// constraints), leading dimensions multiples of 8 (16-byte alignment); NotSupported otherwise.

#include <cstdint>
#include <memory>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

namespace repro::kernels::gpu {

class Sparse24GemmGpu {
 public:
  // W: [out, in] fp16 device, contiguous, 2:4 along in (zeros at the pruned positions).
  // NotSupported when cuSPARSELt is missing or the shape is not supported; DataError when W is
  // not 2:4. Blocks until the compressed copy is made (W may be freed afterwards).
  Sparse24GemmGpu(const __half* W, int64_t out, int64_t in, cudaStream_t stream);
  ~Sparse24GemmGpu();
  Sparse24GemmGpu(const Sparse24GemmGpu&) = delete;
  Sparse24GemmGpu& operator=(const Sparse24GemmGpu&) = delete;

  // y = x W^T + beta y. x: [batch, in] fp16 device, row stride ldx; y: [batch, out] fp16 device,
  // row stride ldy. Asynchronous on `stream`.
  void run(const __half* x, int64_t batch, int64_t ldx, __half* y, int64_t ldy, float beta, cudaStream_t stream);

  int64_t out() const;
  int64_t in() const;
  // Bytes of the compressed weight (values + metadata).
  int64_t compressed_bytes() const;

  // Whether run() takes this shape (see above).
  static bool supported(int64_t out, int64_t in, int64_t batch, int64_t ldx, int64_t ldy);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace repro::kernels::gpu
