// Transformer matching, the "-TM" of 3BASiL-TM (Makni, Meng, Mazumder, NeurIPS 2025,
// arXiv 2603.01376 §3.3; mazumder-lab/3BASiL): after a block's linears are compressed, train every
// parameter of the compressed block (sparse values on their fixed mask, low-rank factors, norms,
// biases) with Adam so that its outputs match the dense block's on the same inputs.
// (Transformer Matching, 3BASiL, arXiv 2603.01376.) Works after any compressor, pure pruning included.

#include <cmath>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <spdlog/spdlog.h>

#include "core/run_context.h"
#include "methods/api/block_refiner.h"
#include "methods/common/adam.h"
#include "models/decoder_block.h"

namespace repro {
namespace {

// One compressed linear's trainable parts. The block's forward reads CompressedLinear's tensors,
// so install() rebuilds them from the leaves before every forward (a fresh autograd graph).
struct TrainedLinear {
  CompressedLinear* c = nullptr;
  at::Tensor values, mask;  // sparse part (mask fixed); undefined when the base is quantized
  at::Tensor dense;         // a plain dense base held by the compressed form
  at::Tensor Bp, Ap;        // PEFT-parametrized factors: U = s Bp, V = Ap, so U V = s Bp Ap
  double scale = 1.0;       // s = lora_alpha / r

  void install() const {
    if (values.defined()) c->set_sparse(values, mask);  // values * mask: the gradient is masked too
    if (dense.defined()) c->set_dense(dense);
    if (Bp.defined()) c->set_low_rank(Bp * scale, Ap);
  }
};

class TransformerMatching final : public BlockRefiner {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info{
        "transformer_matching",
        BlockRefiner::kFamily,
        "3BASiL-TM: Adam on every compressed-block parameter (masks kept) to match the dense block's outputs",
        "Makni, Meng, Mazumder, NeurIPS 2025, arXiv 2603.01376 (Sec. 3.3)",
        "1",
        {param_int("epochs", 20, "epochs over the calibration sequences; epoch 0 only evaluates").at_least(1),
         param_float("lr", 2e-5, "Adam learning rate (cosine-annealed per epoch to lr * eta_min_ratio)").above(0),
         param_float("eta_min_ratio", 0.2, "final learning rate / lr (CosineAnnealingLR eta_min = lr / 5)")
             .at_least(0)
             .at_most(1),
         param_float("lora_alpha", 16, "PEFT LoRA alpha: the factors train as B / sqrt(s), A / sqrt(s), s = alpha / r")
             .above(0),
         param_bool("train_norms", true, "also train the RMSNorm weights and the biases (the reference trains all)")}};
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }
  void configure(const Params& params) override {
    epochs_ = params.get_int("epochs");
    lr_ = params.get_float("lr");
    eta_min_ = lr_ * params.get_float("eta_min_ratio");
    alpha_ = params.get_float("lora_alpha");
    train_norms_ = params.get_bool("train_norms");
  }

  void refine(DecoderBlock& block, const BlockIO& io, RunContext& ctx) override {
    std::vector<at::Tensor> leaves;
    std::vector<TrainedLinear> linears;
    std::vector<at::Tensor*> plain;  // dense weights of uncompressed linears, norms, biases
    for (const std::string& name : DecoderBlock::linear_names()) {
      Linear& lin = block.linear(name);
      if (!lin.compressed) {
        if (lin.weight.defined()) plain.push_back(&lin.weight);
        continue;
      }
      TrainedLinear t;
      t.c = lin.compressed.get();
      if (t.c->has_sparse() && !t.c->has_quant()) {
        t.values = t.c->sparse_values().detach().clone().requires_grad_(true);
        t.mask = t.c->mask();
        leaves.push_back(t.values);
      } else if (!t.c->has_sparse() && !t.c->has_quant() && !t.c->has_low_rank()) {
        t.dense = t.c->base().detach().clone().requires_grad_(true);
        leaves.push_back(t.dense);
      }
      if (t.c->has_low_rank()) {
        t.scale = alpha_ / static_cast<double>(t.c->U().size(1));
        const double root = std::sqrt(t.scale);
        t.Bp = (t.c->U() / root).detach().requires_grad_(true);
        t.Ap = (t.c->V() / root).detach().requires_grad_(true);
        leaves.push_back(t.Bp);
        leaves.push_back(t.Ap);
      }
      linears.push_back(t);
    }
    if (train_norms_) {
      for (at::Tensor* p : block.parameters()) {
        bool is_weight = false;
        for (const std::string& name : DecoderBlock::linear_names())
          is_weight = is_weight || p == &block.linear(name).weight;
        if (!is_weight) plain.push_back(p);
      }
    }
    for (at::Tensor* p : plain) {
      *p = p->detach().requires_grad_(true);
      leaves.push_back(*p);
    }

    Adam adam(leaves, AdamOptions{lr_});
    const int64_t n = io.inputs.size(0);
    const int64_t bs = std::max<int64_t>(1, io.batch_size);
    auto progress = ctx.progress("transformer_matching block " + std::to_string(block.layer_index()), epochs_);
    for (int64_t epoch = 0; epoch < epochs_; ++epoch, progress->advance()) {
      // CosineAnnealingLR(T_max = epochs, eta_min), stepped once per epoch; epoch 0 only evaluates.
      adam.set_lr(cosine_annealing_lr(lr_, eta_min_, std::max<int64_t>(0, epoch - 1), epochs_));
      double epoch_loss = 0;
      for (int64_t i = 0; i < n; i += bs) {
        const int64_t end = std::min(n, i + bs);
        for (const TrainedLinear& t : linears) t.install();
        at::Tensor y = block.forward(io.inputs.slice(0, i, end), io.positions);
        // The sum of squared errors (not a mean), in fp32.
        at::Tensor loss = (y.to(at::kFloat) - io.targets.slice(0, i, end).to(at::kFloat)).square().sum();
        epoch_loss += loss.item<double>();
        if (epoch == 0) continue;
        loss.backward();
        adam.step();
        at::NoGradGuard no_grad;
        for (const TrainedLinear& t : linears)
          if (t.values.defined()) t.values.mul_(t.mask);
      }
      ctx.log().debug("transformer_matching block {} epoch {} loss {:.6g}", block.layer_index(), epoch, epoch_loss);
    }
    progress->finish();

    // Leave no tensor requiring grad behind.
    at::NoGradGuard no_grad;
    for (TrainedLinear& t : linears) {
      if (t.values.defined()) t.values = t.values.detach();
      if (t.dense.defined()) t.dense = t.dense.detach();
      if (t.Bp.defined()) t.Bp = t.Bp.detach(), t.Ap = t.Ap.detach();
      t.install();
    }
    for (at::Tensor* p : plain) *p = p->detach();
    ctx.count("tm_adam_steps", adam.steps());
  }

 private:
  int64_t epochs_ = 20;
  double lr_ = 2e-5, eta_min_ = 4e-6, alpha_ = 16;
  bool train_norms_ = true;
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_METHOD(BlockRefiner, repro::TransformerMatching);
