// TEMPLATE (BlockRefiner) — copy to methods/<your_refiner>/ and follow methods/README.md. Compiled
// as the plugin `_template_refiner` so that it never rots.
//
// A BlockRefiner runs after every linear of a block is compressed, and trains the block so that
// its outputs match the dense block's on the same inputs (`refiner = { method = "..." }` in a row).
// This example trains only the two RMSNorm weights by plain gradient descent on the summed squared
// error, which leaves every compressed structure (masks, grids, ranks) as it is.

#include <ATen/ATen.h>

#include "core/run_context.h"
#include "methods/api/block_refiner.h"
#include "models/decoder_block.h"

namespace repro {
namespace {

class TemplateRefiner final : public BlockRefiner {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info{"_template_refiner", BlockRefiner::kFamily,
                                 "template refiner: gradient descent on the block's RMSNorm weights (copy me)", "",
                                 "1",
                                 {param_int("steps", 5, "passes over the calibration batches").at_least(0),
                                  param_float("lr", 1e-3, "step size on the per-token mean squared error").above(0)}};
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }
  void configure(const Params& params) override {
    steps_ = params.get_int("steps");
    lr_ = params.get_float("lr");
  }

  // The engine calls this with gradients enabled; io.inputs / io.targets: [n, T, D] on the device.
  void refine(DecoderBlock& block, const BlockIO& io, RunContext& ctx) override {
    std::vector<at::Tensor*> trained = {&block.input_layernorm, &block.post_attention_layernorm};
    for (at::Tensor* t : trained) *t = t->detach().requires_grad_(true);
    const int64_t n = io.inputs.size(0);
    auto progress = ctx.progress("refine block " + std::to_string(block.layer_index()), steps_);
    for (int64_t step = 0; step < steps_; ++step, progress->advance()) {
      for (int64_t i = 0; i < n; i += io.batch_size) {
        const int64_t end = std::min(n, i + io.batch_size);
        at::Tensor y = block.forward(io.inputs.slice(0, i, end), io.positions);
        at::Tensor loss = (y - io.targets.slice(0, i, end)).to(at::kFloat).square().sum(-1).mean();
        loss.backward();
        at::NoGradGuard no_grad;
        for (at::Tensor* t : trained) {
          t->sub_(t->grad(), lr_);
          t->grad().zero_();
        }
      }
    }
    progress->finish();
    for (at::Tensor* t : trained) *t = t->detach();
  }

 private:
  int64_t steps_ = 5;
  double lr_ = 1e-3;
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_METHOD(BlockRefiner, repro::TemplateRefiner);
