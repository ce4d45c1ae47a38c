// TEMPLATE (ModelTransform) — copy to methods/<your_transform>/ and follow methods/README.md.
// Compiled as the plugin `_template_transform` so that it never rots.
//
// A ModelTransform changes the whole model before calibration (`transforms = [{ method = "..." }]`
// in a row; SmoothQuant and Hadamard rotations are transforms). This example moves a constant
// factor from each block's input RMSNorm into the q/k/v weights that read its output: the model
// computes the same function, only the scale of the weights changes.

#include <ATen/ATen.h>

#include "core/run_context.h"
#include "methods/api/model_transform.h"
#include "models/llama.h"

namespace repro {
namespace {

class TemplateTransform final : public ModelTransform {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info{"_template_transform", ModelTransform::kFamily,
                                 "template transform: moves a factor from the input norm into q/k/v (copy me)", "",
                                 "1", {param_float("factor", 2.0, "the factor the norm is multiplied by").above(0)}};
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }
  void configure(const Params& params) override { factor_ = params.get_float("factor"); }

  // Weights are dense here (transforms run before any compression). `calibration` ([n, T] tokens)
  // is there for transforms that need activation statistics; this one does not.
  void apply(CausalLM& model, const at::Tensor&, RunContext&) override {
    at::NoGradGuard no_grad;
    for (int64_t i = 0; i < model.num_layers(); ++i) {
      DecoderBlock& b = model.block(i);
      b.input_layernorm.mul_(factor_);
      for (Linear* l : {&b.q_proj, &b.k_proj, &b.v_proj}) l->weight.div_(factor_);
    }
  }

 private:
  double factor_ = 2.0;
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_METHOD(ModelTransform, repro::TemplateTransform);
