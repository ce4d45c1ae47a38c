#pragma once
// The plugin interfaces. Every method derives from Method and from exactly one family below, and
// registers with one line in its .cpp: REPRO_REGISTER_METHOD(LayerCompressor, Gptq).
// Adding a method: see methods/README.md.

#include <cstdint>
#include <string>

#include <ATen/ATen.h>

#include "core/params.h"
#include "core/registry.h"
#include "core/run_context.h"
#include "models/compressed_linear.h"

namespace repro {

class Method {
 public:
  virtual ~Method() = default;
  virtual const MethodInfo& info() const = 0;
  // Called once with validated parameters (types and defaults already checked against
  // info().params). Cross-parameter checks (e.g. group size divides the width) belong here or in
  // the first call that sees shapes, and throw ConfigError via params.fail().
  virtual void configure(const Params& params) = 0;
};

// One linear layer to compress: minimize ||X W^T - X W_hat^T||_F^2 = tr((W - W_hat) H (W - W_hat)^T).
struct LayerProblem {
  std::string name;    // "model.layers.3.mlp.down_proj" or "synthetic"
  at::Tensor W;        // [out, in] fp32, the dense weight
  at::Tensor H;        // [in, in] fp32, H = (2 / n_samples) * sum over tokens of x x^T, undamped
                       // (undefined for data-free methods when no calibration ran)
  at::Tensor X;        // [n_tokens, in] fp32 input samples; undefined unless the method asks for them
  int64_t n_samples = 0;  // calibration sequences behind H
};

class LayerCompressor : public Method {
 public:
  static constexpr const char* kFamily = "LayerCompressor";
  // W, H on the same device; the result's tensors live there too.
  virtual CompressedLinear compress(const LayerProblem& problem, RunContext& ctx) = 0;
  // Data-free methods (magnitude, RTN) return false: the engine then skips calibration.
  virtual bool needs_hessian() const { return true; }
  // Methods that need raw input samples (not only H) return true.
  virtual bool needs_inputs() const { return false; }
};

// An N:M pattern: at most n nonzeros in every group of m consecutive input columns of a row.
struct NMPattern {
  int n = 2, m = 4;
};

// Chooses an N:M mask from scores (higher = more important to keep).
class MaskSolver : public Method {
 public:
  static constexpr const char* kFamily = "MaskSolver";
  // scores: [out, in] fp32, in % m == 0. Returns a bool mask [out, in] with exactly n kept per group.
  virtual at::Tensor solve(const at::Tensor& scores, NMPattern pattern, RunContext& ctx) = 0;
};

}  // namespace repro
