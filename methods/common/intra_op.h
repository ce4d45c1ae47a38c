#pragma once
// A scope in which ATen's intra-op (OpenMP) parallelism is off on the calling thread. Every layer
// compressor here runs its CPU work in one.
//
// The layer solvers' CPU loops (the OBS sweep, the blocked Cholesky, ADMM) interleave large BLAS
// calls with many small, memory-bound elementwise ops. Each parallel elementwise op is a barrier, and on
// a busy machine a barrier waits for a scheduler time slice: measured on the shared 2-core host,
// GPTQ on a 1024 x 1024 layer and RTN on a 4096 x 4096 layer ran 9-10x slower with 2 intra-op
// threads than with 1. BLAS keeps its
// own threads (OpenBLAS/MKL pools, not governed by at::set_num_threads), so the GEMMs stay parallel.
// No-op for CUDA work, when only one thread is configured, and with ATen's native thread pool
// (whose size cannot change once it exists): with OpenMP, omp_set_num_threads is per thread, so
// other threads are unaffected.

#include <string>

#include <ATen/Parallel.h>

namespace repro {

class SerialIntraOp {
 public:
  explicit SerialIntraOp(bool on = true) : prev_(on && openmp() ? at::get_num_threads() : 1) {
    if (prev_ > 1) at::set_num_threads(1);
  }
  ~SerialIntraOp() {
    if (prev_ > 1) at::set_num_threads(prev_);
  }
  SerialIntraOp(const SerialIntraOp&) = delete;
  SerialIntraOp& operator=(const SerialIntraOp&) = delete;

 private:
  static bool openmp() {
    static const bool is_openmp = at::get_parallel_info().find("parallel backend: OpenMP") != std::string::npos;
    return is_openmp;
  }
  int prev_;
};

}  // namespace repro
