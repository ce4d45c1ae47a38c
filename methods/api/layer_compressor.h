#pragma once
// LayerCompressor: compresses one linear layer from its weight and the Hessian of its inputs
// (GPTQ, SparseGPT, ALPS, OATS, HASSLE-free, ...). The layer-wise engine (suites/engine) calls it
// for every linear of every block; the method never sees a model.

#include <cstdint>
#include <memory>
#include <string>

#include <ATen/core/Tensor.h>

#include "core/error.h"
#include "methods/method.h"
#include "models/compressed_linear.h"

namespace repro {

class HessianMemo;  // methods/common/hessian_memo.h

// One linear layer to compress: minimize ||X W^T - X W_hat^T||_F^2 = tr((W - W_hat) H (W - W_hat)^T).
struct LayerProblem {
  std::string name;    // "model.layers.3.mlp.down_proj" or "synthetic"
  at::Tensor W;        // [out, in] fp32, the dense weight
  at::Tensor H;        // [in, in] fp32, H = (2 / n_samples) * sum over tokens of x x^T, undamped.
                       // Always defined when the method's needs_hessian() is true (the engine's
                       // guarantee); undefined for data-free methods.
  at::Tensor X;        // [n_tokens, in] fp32 input samples, on W's device; defined only when the
                       // method's needs_inputs() is true (at most the engine's input_samples rows)
  int64_t n_samples = 0;  // calibration sequences behind H
  // Set by a caller that solves several problems on this same H (HASSLE-free's S steps): derived
  // forms of H (damped, scaled, eigendecomposed) that solvers may share. Null: nothing shared.
  std::shared_ptr<HessianMemo> memo;

  // H, asserting the engine's guarantee (a missing H is a harness bug, not a user error).
  const at::Tensor& hessian() const {
    REPRO_ASSERT(H.defined(), "layer '" + name + "': no Hessian for a method that needs one");
    return H;
  }
};

class LayerCompressor : public Method {
 public:
  static constexpr const char* kFamily = "LayerCompressor";
  // W, H (and X) on the same device; the result's tensors live there too.
  virtual CompressedLinear compress(const LayerProblem& problem, RunContext& ctx) = 0;
  // Data-free methods (magnitude, RTN) return false: the engine then skips calibration.
  virtual bool needs_hessian() const { return true; }
  // Methods that need raw input samples (not only H) return true: the engine then fills
  // LayerProblem::X with a seeded subset of the calibration tokens' inputs to the layer.
  virtual bool needs_inputs() const { return false; }

  // The cost model behind `repro reproduce --dry-run` (a planning estimate, not a bound): the
  // floating-point operations to compress one [out, in] layer, and the bytes of working memory it
  // allocates beyond W and H. Negative: the method has no model (the estimate says so).
  virtual double solve_flops(int64_t /*out*/, int64_t /*in*/) const { return -1; }
  virtual double solve_bytes(int64_t /*out*/, int64_t /*in*/) const { return -1; }
};

}  // namespace repro
