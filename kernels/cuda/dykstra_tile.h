#pragma once
// The per-tile arithmetic of the batched Dykstra kernel for TSENOR's transposable N:M masks
// (dykstra.cu) and of its host emulation (dykstra_emulate.cpp), written once. The iteration is
// methods/common/transposable.h's dykstra_transposable (Meng, Makni & Mazumder 2025, "TSENOR",
// arXiv 2505.23949: entropic relaxation of the transposable N:M problem solved by Dykstra's
// algorithm in its scaling form), with that CPU code's operation order kept exactly: rows scaled
// to sum n; column sums accumulated in row order; columns scaled fused with the capacity step
// (P = S * colscale * Q; S = min(P, 1); Q = max(P, 1)); row sums with eight interleaved partial
// sums when m % 8 == 0. Each thread of the kernel owns one entry (i, j) of an m x m tile.

#include <cstdint>

#include "kernels/cuda/host_device.h"

namespace repro::kernels::gpu {

inline constexpr float kDykstraTinySum = 1e-30f;  // sums are floored here before dividing

// Sum of x[0..m) in the CPU code's order: eight partial sums over j = k mod 8 when m % 8 == 0,
// combined as ((a0 + a4) + (a1 + a5)) + ((a2 + a6) + (a3 + a7)); otherwise left to right.
REPRO_HD float dykstra_row_sum(const float* x, int m) {
  if (m % 8 != 0) {
    float s = 0.0f;
    for (int j = 0; j < m; ++j) s += x[j];
    return s;
  }
  float a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int j = 0; j < m; j += 8)
    for (int k = 0; k < 8; ++k) a[k] += x[j + k];
  return ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]));
}

// Sum of column j of an m x m row-major tile, rows in order (as the CPU accumulates it).
REPRO_HD float dykstra_col_sum(const float* tile, int m, int j) {
  float s = 0.0f;
  for (int i = 0; i < m; ++i) s += tile[i * m + j];
  return s;
}

// n / max(sum, tiny): the factor that scales a row or column to sum n.
REPRO_HD float dykstra_factor(float n, float sum) { return n / (sum > kDykstraTinySum ? sum : kDykstraTinySum); }

// The capacity step on one entry: P = (S * colscale) * Q; S = min(P, 1); Q = max(P, 1).
REPRO_HD void dykstra_capacity(float& s, float& q, float colscale) {
  const float p = (s * colscale) * q;
  s = p < 1.0f ? p : 1.0f;
  q = p > 1.0f ? p : 1.0f;
}

// The largest |row sum - n| and |column sum - n| of a tile (the early-stop test), row sums given.
REPRO_HD float dykstra_deviation(const float* tile, const float* row_sums, int m, float n) {
  float dev = 0.0f;
  for (int i = 0; i < m; ++i) {
    const float d = row_sums[i] > n ? row_sums[i] - n : n - row_sums[i];
    dev = d > dev ? d : dev;
  }
  for (int j = 0; j < m; ++j) {
    const float c = dykstra_col_sum(tile, m, j);
    const float d = c > n ? c - n : n - c;
    dev = d > dev ? d : dev;
  }
  return dev;
}

}  // namespace repro::kernels::gpu
