#pragma once
// Cost models of the column-sweep solvers (GPTQ, SparseGPT), for LayerCompressor::solve_flops /
// solve_bytes: one Cholesky of the damped H (in^3 / 3; the inverse's upper factor comes from a
// reversed Cholesky) and the sweep's error feedback (about out * in^2 / 2 multiply-adds over the lazy
// batches). Memory: a damped copy of H, W in fp32, its codes or mask (a byte per weight) and one
// batch's error block of `block` columns.

#include <cstdint>

namespace repro {

inline double column_sweep_flops(int64_t out, int64_t in) {
  const double o = static_cast<double>(out), n = static_cast<double>(in);
  return n * n * n / 3.0 + o * n * n;
}

inline double column_sweep_bytes(int64_t out, int64_t in, int64_t block = 128) {
  const double o = static_cast<double>(out), n = static_cast<double>(in);
  return 4.0 * n * n + 4.0 * o * n + o * n + 4.0 * o * static_cast<double>(block);
}

}  // namespace repro
