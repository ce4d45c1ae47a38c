#pragma once
// Accumulates H = (2 / n) * sum over tokens of x x^T for one linear layer's input, one batch of
// calibration sequences at a time, exactly as GPTQ/SparseGPT do (running rescale, fp32):
//   H <- H * n / (n + b);  n <- n + b;  H <- H + (sqrt(2 / n) X)^T (sqrt(2 / n) X)
// where b is the number of sequences in the batch and X holds all their tokens.

#include <cstdint>

#include <ATen/core/Tensor.h>

namespace repro {

class HessianAccumulator {
 public:
  HessianAccumulator() = default;
  HessianAccumulator(int64_t in_features, c10::Device device);

  // x: [b, T, in] (b sequences) or [T, in] (one sequence), any float dtype, on any device.
  void add(const at::Tensor& x);

  const at::Tensor& H() const { return H_; }  // [in, in] fp32
  int64_t n_samples() const { return n_; }
  bool empty() const { return n_ == 0; }

 private:
  at::Tensor H_;
  int64_t n_ = 0;
};

}  // namespace repro
