#include "kernels/cuda/sparse_lowrank_gpu.h"

#include "core/error.h"
#include "kernels/cuda/cuda_check.h"

namespace repro::kernels::gpu {

namespace {

DeviceBuffer<__half> copy_device(const __half* src, int64_t n) {
  DeviceBuffer<__half> out(static_cast<size_t>(n));
  if (n > 0) check_cuda(cudaMemcpy(out.get(), src, n * sizeof(__half), cudaMemcpyDeviceToDevice), "cudaMemcpy (copy)");
  return out;
}

}  // namespace

SparseLowRankGpu::SparseLowRankGpu(const __half* S, bool sparse24, int64_t out, int64_t in, const __half* U,
                                   const __half* V, int64_t rank, cudaStream_t stream)
    : out_(out), in_(in), rank_(rank) {
  REPRO_ASSERT(out > 0 && in > 0 && rank >= 0, "SparseLowRankGpu: bad shape");
  if (sparse24) sparse_ = std::make_unique<Sparse24GemmGpu>(S, out, in, stream);
  else dense_ = copy_device(S, out * in);
  U_ = copy_device(U, out * rank);
  V_ = copy_device(V, rank * in);
}

void SparseLowRankGpu::run(const CublasHandle& h, const __half* x, int64_t batch, int64_t ldx, __half* y, int64_t ldy,
                           cudaStream_t stream) {
  float beta = 0.0f;
  if (rank_ > 0) {
    if (t_.size() < static_cast<size_t>(batch * rank_)) t_ = DeviceBuffer<__half>(static_cast<size_t>(batch * rank_));
    dense_linear_fp16(h, V_.get(), rank_, in_, in_, x, batch, ldx, t_.get(), rank_, 0.0f, stream);   // t = x V^T
    dense_linear_fp16(h, U_.get(), out_, rank_, rank_, t_.get(), batch, rank_, y, ldy, 0.0f, stream);  // y = t U^T
    beta = 1.0f;
  }
  if (sparse_) sparse_->run(x, batch, ldx, y, ldy, beta, stream);
  else dense_linear_fp16(h, dense_.get(), out_, in_, in_, x, batch, ldx, y, ldy, beta, stream);
}

}  // namespace repro::kernels::gpu
