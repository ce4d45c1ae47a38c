#pragma once
// The fused AVX2 kernels read x in whole column blocks: when the packed weight pads its columns
// (cols_padded > cols), x is copied once into a zero-padded buffer so the tail reads zeros.

#include <cstdint>
#include <cstring>
#include <vector>

namespace repro::kernels::detail {

struct PaddedInput {
  const float* x;
  int64_t ldx;
  std::vector<float> storage;  // the copy, empty when x is used in place
};

inline PaddedInput pad_columns(const float* x, int64_t batch, int64_t ldx, int64_t cols, int64_t cols_padded) {
  PaddedInput p{x, ldx, {}};
  if (cols_padded == cols) return p;
  p.storage.assign(static_cast<size_t>(batch * cols_padded), 0.0f);
  for (int64_t b = 0; b < batch; ++b) std::memcpy(&p.storage[b * cols_padded], x + b * ldx, cols * sizeof(float));
  p.x = p.storage.data();
  p.ldx = cols_padded;
  return p;
}

}  // namespace repro::kernels::detail
