// TEMPLATE — copy this folder to methods/<your_method>/, rename the file and the class, and follow
// methods/README.md. This file is compiled (as the plugin `_template_example`) so that it never rots.
//
// A LayerCompressor gets one linear layer (W [out, in], the calibration Hessian H [in, in]) and
// returns its compressed form. This example keeps the `keep` fraction of weights with the largest
// Hessian-weighted magnitude |W_ij| * sqrt(H_jj) in every row — a one-line Wanda.

#include <cmath>

#include <ATen/ATen.h>

#include "core/run_context.h"
#include "methods/api/layer_compressor.h"

namespace repro {
namespace {

class TemplateExample : public LayerCompressor {
 public:
  // Name, family, one-line summary, paper, version (bump it when results change: it is part of
  // every cache key) and the parameters with their types, defaults and one-line docs.
  static const MethodInfo& static_info() {
    static const MethodInfo info{
        "_template_example", LayerCompressor::kFamily,
        "template plugin: keeps the largest |W_ij| * sqrt(H_jj) per row (copy me)", "", "1",
        {param_float("keep", 0.5, "fraction of weights kept in every row").above(0).at_most(1)}};
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }

  // Parameters arrive validated (types, defaults, ranges). Rules across parameters go here, with
  // params.fail(name, message); configure() also runs when a table loads, for every row.
  void configure(const Params& params) override { keep_ = params.get_float("keep"); }

  // W: [out, in] fp32, H: [in, in] fp32, same device. Returns tensors on that device.
  CompressedLinear compress(const LayerProblem& p, RunContext&) override {
    const int64_t in = p.W.size(1);
    const int64_t k = std::max<int64_t>(1, static_cast<int64_t>(std::llround(keep_ * static_cast<double>(in))));
    at::Tensor score = p.W.abs() * p.hessian().diagonal().clamp_min(0).sqrt().unsqueeze(0);
    at::Tensor idx = std::get<1>(score.topk(k, /*dim=*/1));
    at::Tensor mask = at::zeros_like(p.W, p.W.options().dtype(at::kBool)).scatter_(1, idx, true);
    CompressedLinear out;
    out.set_sparse(p.W, mask);
    return out;
  }

 private:
  double keep_ = 0.5;
};

}  // namespace
}  // namespace repro

// Registration: one line. The name in static_info() is what configs use: method = "_template_example".
REPRO_REGISTER_METHOD(LayerCompressor, repro::TemplateExample);
