#pragma once
// A linear layer as the decoder uses it: a dense weight, or a compressed form that the layer-wise
// engine installs in its place, plus an optional input hook (the engine accumulates Hessians
// H = sum x x^T through it).

#include <functional>
#include <memory>

#include <ATen/core/Tensor.h>

#include "models/compressed_linear.h"

namespace repro {

class Linear {
 public:
  at::Tensor weight;  // [out, in]; may be undefined once `compressed` is set
  at::Tensor bias;    // [out] or undefined
  // When set, forward() runs compressed->forward(x) (+ bias) instead of the dense weight.
  std::shared_ptr<CompressedLinear> compressed;
  // Called with forward()'s input before anything else (x: [..., in], the compute dtype).
  std::function<void(const at::Tensor& x)> on_input;

  // x: [..., in] -> [..., out] in x's dtype (weight and bias in that dtype too when dense).
  at::Tensor forward(const at::Tensor& x) const;

  int64_t out_features() const;
  int64_t in_features() const;
  // The effective weight [out, in]: `weight`, or compressed->dense() (fp32) when compressed.
  at::Tensor dense_weight() const;
  bool is_compressed() const { return compressed != nullptr; }
};

}  // namespace repro
