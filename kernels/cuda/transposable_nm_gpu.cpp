#include "kernels/cuda/transposable_nm_gpu.h"

#include "core/error.h"
#include "kernels/cuda/cuda_check.h"

namespace repro::kernels::gpu {

TransposableSparseLinearGpu::TransposableSparseLinearGpu(const __half* W, const uint8_t* mask, int64_t out, int64_t in,
                                                         cudaStream_t stream)
    : out_(out), in_(in), mask_(static_cast<size_t>(out * in)) {
  check_cuda(cudaMemcpyAsync(mask_.get(), mask, static_cast<size_t>(out * in), cudaMemcpyDeviceToDevice, stream),
             "cudaMemcpyAsync (mask)");
  forward_ = std::make_unique<Sparse24GemmGpu>(W, out, in, stream);
  DeviceBuffer<__half> wt(static_cast<size_t>(out * in));
  transpose_fp16(W, out, in, wt.get(), stream);
  backward_ = std::make_unique<Sparse24GemmGpu>(wt.get(), in, out, stream);
}

void TransposableSparseLinearGpu::forward(const __half* x, int64_t batch, int64_t ldx, __half* y, int64_t ldy,
                                          cudaStream_t stream) {
  forward_->run(x, batch, ldx, y, ldy, 0.0f, stream);
}

void TransposableSparseLinearGpu::backward_input(const __half* dy, int64_t batch, int64_t lddy, __half* dx,
                                                 int64_t lddx, cudaStream_t stream) {
  backward_->run(dy, batch, lddy, dx, lddx, 0.0f, stream);  // dx = dy (W^T)^T
}

void TransposableSparseLinearGpu::backward_weight(const CublasHandle& h, const __half* dy, int64_t batch, int64_t lddy,
                                                  const __half* x, int64_t ldx, __half* dW, cudaStream_t stream) {
  dense_linear_backward_weight_fp16(h, dy, batch, lddy, out_, x, ldx, in_, dW, in_, stream);
  apply_mask_fp16(dW, mask_.get(), out_ * in_, stream);
}

}  // namespace repro::kernels::gpu
