#pragma once
// A scope in which ATen's intra-op (OpenMP) parallelism is off on the calling thread.
//
// The layer solvers' CPU loops (the OBS sweep, the blocked Cholesky) interleave large BLAS calls
// with many small, memory-bound elementwise ops. Each parallel elementwise op is a barrier, and on
// a busy machine a barrier waits for a scheduler time slice: measured on the shared 2-core host,
// GPTQ on a 1024 x 1024 layer ran 10x slower with 2 intra-op threads than with 1. BLAS keeps its
// own threads (OpenBLAS/MKL pools, not governed by at::set_num_threads), so the GEMMs stay parallel.
// No-op for CUDA work and when only one thread is configured.

#include <ATen/Parallel.h>

namespace repro {

class SerialIntraOp {
 public:
  explicit SerialIntraOp(bool on = true) : prev_(on ? at::get_num_threads() : 1) {
    if (prev_ > 1) at::set_num_threads(1);
  }
  ~SerialIntraOp() {
    if (prev_ > 1) at::set_num_threads(prev_);
  }
  SerialIntraOp(const SerialIntraOp&) = delete;
  SerialIntraOp& operator=(const SerialIntraOp&) = delete;

 private:
  int prev_;
};

}  // namespace repro
