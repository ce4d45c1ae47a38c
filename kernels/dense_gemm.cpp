#include "kernels/dense_gemm.h"

#include "kernels/detail/dense_rows.h"
#include "kernels/detail/parallel.h"

namespace repro::kernels {

namespace detail {

void dense_rows_scalar(const float* x, int64_t batch, int64_t ldx, const float* w, int64_t ldw, int64_t cols,
                       int64_t o0, int64_t o1, float* y, int64_t ldy, bool accumulate) {
  for (int64_t o = o0; o < o1; ++o) {
    const float* wr = w + o * ldw;
    for (int64_t b = 0; b < batch; ++b) {
      const float* xr = x + b * ldx;
      // Four partial sums: the same association for every call, and a shorter dependency chain.
      float s[4] = {0, 0, 0, 0};
      int64_t k = 0;
      for (; k + 4 <= cols; k += 4)
        for (int i = 0; i < 4; ++i) s[i] += xr[k + i] * wr[k + i];
      for (; k < cols; ++k) s[0] += xr[k] * wr[k];
      const float v = (s[0] + s[1]) + (s[2] + s[3]);
      y[b * ldy + o] = accumulate ? y[b * ldy + o] + v : v;
    }
  }
}

}  // namespace detail

void dense_gemm(const float* x, int64_t batch, int64_t ldx, const float* w, int64_t rows, int64_t cols, int64_t ldw,
                float* y, int64_t ldy, bool accumulate, const KernelOptions& options) {
  const Isa isa = resolve_isa(options.isa);
  detail::parallel_rows(rows, 4, resolve_threads(options), rows * cols * batch, [&](int64_t o0, int64_t o1) {
    detail::dense_rows(isa, x, batch, ldx, w, ldw, cols, o0, o1, y, ldy, accumulate);
  });
}

void dense_gemm_reference(const float* x, int64_t batch, int64_t ldx, const float* w, int64_t rows, int64_t cols,
                          int64_t ldw, float* y, int64_t ldy, bool accumulate) {
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t o = 0; o < rows; ++o) {
      double s = 0;
      for (int64_t k = 0; k < cols; ++k) s += static_cast<double>(x[b * ldx + k]) * w[o * ldw + k];
      float& out = y[b * ldy + o];
      out = static_cast<float>(accumulate ? out + s : s);
    }
}

}  // namespace repro::kernels
