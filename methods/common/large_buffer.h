#pragma once
// Large scratch tensors for layer solvers. A fresh multi-megabyte CPU allocation pays one page
// fault per 4 KiB page when it is first written (tens of ms per 64 MiB, far more on a loaded or
// virtualized host); buffers backed by transparent huge pages fault once per 2 MiB. On Linux CPU
// tensors of at least kLargeBufferBytes are allocated 2 MiB-aligned and madvise(MADV_HUGEPAGE)d
// (effective when /sys/kernel/mm/transparent_hugepage/enabled is "always" or "madvise"); anything
// else is at::empty.

#include <cstdint>

#include <ATen/core/Tensor.h>

namespace repro {

inline constexpr int64_t kLargeBufferBytes = int64_t{4} << 20;

// Uninitialized contiguous tensor, like at::empty(sizes, options).
at::Tensor empty_large(at::IntArrayRef sizes, const at::TensorOptions& options);

// A contiguous copy of `src` (any strides, e.g. a transposed view) in such a buffer.
at::Tensor copy_large(const at::Tensor& src);

}  // namespace repro
