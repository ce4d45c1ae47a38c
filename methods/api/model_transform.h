#pragma once
// ModelTransform: changes the whole model before layer-wise calibration, in a way that keeps its
// function (SmoothQuant's scale migration, arXiv 2211.10438; QuaRot's Hadamard rotations,
// arXiv 2404.00456) or deliberately changes it (activation / KV-cache quantization hooks). Runs
// once per row, before any Hessian is collected; its canonical spec is part of every Hessian
// cache key.

#include <ATen/core/Tensor.h>

#include "methods/method.h"

namespace repro {

class CausalLM;

class ModelTransform : public Method {
 public:
  static constexpr const char* kFamily = "ModelTransform";
  // model: parameters on the CPU or the device, as loaded. calibration: [n, T] int64 token windows
  // (the same ones the engine calibrates on), for transforms that need activation statistics.
  virtual void apply(CausalLM& model, const at::Tensor& calibration, RunContext& ctx) = 0;
};

}  // namespace repro
