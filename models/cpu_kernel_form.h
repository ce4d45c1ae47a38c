#pragma once
// CpuKernelForm: a CompressedLinear repacked for the CPU kernels (kernels/): low-bit codes in the
// lane-interleaved layout, 2:4 values with 2-bit positions, the low-rank factors as they are.
//
// Linear::forward runs a compressed layer through cpu_kernel_forward(): for an fp32 CPU input of
// at most kCpuKernelMaxRows rows that needs no gradient, in a format the kernels take, it packs the
// layer once and keeps the packed form while the tensors it was built from stay unchanged (same
// storage, same version counter: a refiner's in-place step repacks); anything else returns an
// undefined tensor and the layer runs CompressedLinear::forward, the torch path. A dense layer's
// decode-sized inputs go through cpu_dense_forward(), the dense kernel, under the same conditions.
//
// The packed forms live in a process-wide cache keyed by the layer's shared_ptr (entries die with
// their layer), not inside CompressedLinear: the class stays a plain value type whose copies and
// clones need no cache bookkeeping.

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "kernels/lowbit_gemm.h"
#include "kernels/sparse24_gemm.h"

namespace repro {

class CompressedLinear;
class CpuKernelForm;

// y = x W_hat^T through the CPU kernels, or an undefined tensor when they do not apply (see above).
// x: [..., in] any dtype and device; a defined result is [..., out] fp32 on the CPU.
at::Tensor cpu_kernel_forward(const std::shared_ptr<const CompressedLinear>& c, const at::Tensor& x);
// y = x W^T for a dense fp32 weight [out, in] through the dense CPU kernel (kernels/dense_gemm.h),
// or an undefined tensor when it does not apply: an fp32 CPU input of at most kCpuKernelMaxRows
// rows with no gradient to track, a row-contiguous weight. At decode sizes libtorch's at::linear
// reaches OpenBLAS's sgemm with one row, several times slower than a GEMV.
at::Tensor cpu_dense_forward(const at::Tensor& weight, const at::Tensor& x);
// Whether cpu_kernel_forward(c, x) would run the kernels (packs c if it was not yet).
bool uses_cpu_kernels(const std::shared_ptr<const CompressedLinear>& c, const at::Tensor& x);
// Process-wide switch (on by default). Off, every layer, dense or compressed, runs the torch path:
// for comparisons (the tests, dense-vs-kernel timings).
void set_cpu_kernels_enabled(bool on);
bool cpu_kernels_enabled();

// Rows of x (tokens) up to which forward() uses the kernels. Above it the product is
// compute-bound and BLAS on the dequantized weight is faster.
inline constexpr int64_t kCpuKernelMaxRows = 64;

class CpuKernelForm {
 public:
  // Whether the kernels take this layer's format (cheap: no packing): quantized codes of 2-4 bits
  // on contiguous groups (no g_idx, no sparse mask), or a 2:4 candidate sparse part (the mask is
  // checked by build()), either with or without low-rank factors; every tensor on the CPU.
  static bool format_supported(const CompressedLinear& c);
  // The packed form; nullptr when the format is not supported (a sparse mask that is not 2:4).
  static std::shared_ptr<const CpuKernelForm> build(const CompressedLinear& c);

  // True when built from c's current tensors (same storage, no in-place change since).
  bool is_current(const CompressedLinear& c) const;
  // Identity of the tensors a form is built from: (storage pointer, version counter) per tensor.
  using SourceKey = std::vector<std::pair<const void*, int64_t>>;
  static SourceKey source_key(const CompressedLinear& c);

  // y = x W_hat^T. x: [..., in] fp32 CPU -> [..., out] fp32 CPU.
  at::Tensor forward(const at::Tensor& x) const;

  const char* kind() const;  // "lowbit", "sparse24"
  int64_t bytes_read() const;  // bytes of packed weight a product reads (without low-rank factors)

 private:
  int64_t out_ = 0, in_ = 0;
  std::optional<kernels::PackedLowBit> lowbit_;
  std::optional<kernels::Packed24> sparse_;
  at::Tensor U_, V_;  // [out, r], [r, in] fp32 contiguous (undefined: no low-rank term)
  SourceKey source_;
};

}  // namespace repro
