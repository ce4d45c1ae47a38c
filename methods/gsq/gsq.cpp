// GSQ: Gumbel-Softmax scalar quantization (Dadgarnia, Tabesh, Nikdan, Helcig, Kurtic, Alistarh,
// arXiv 2604.18556; IST-DASLab/GSQ). After GPTQ has put every linear of a block on its symmetric
// group-wise grid, relax each weight's grid assignment with Gumbel-Softmax, train the logits and the
// per-group scales with Lion so that the block's outputs match the dense block's, then keep the
// argmax codes and the trained scales. See methods/gsq/README.md for what follows the code and
// what differs.

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/grad_mode.h>

#include <cmath>
#include <memory>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/run_context.h"
#include "methods/api/block_refiner.h"
#include "methods/common/lion.h"
#include "methods/gsq/gumbel_quantizer.h"
#include "models/decoder_block.h"

namespace repro {
namespace {

// The attention pass and the MLP pass of IST-DASLab/GSQ main.py (self_attn on / off).
const std::vector<std::string> kAttention = {"q_proj", "k_proj", "v_proj", "o_proj"};
const std::vector<std::string> kMlp = {"gate_proj", "up_proj", "down_proj"};

// One trained linear: its relaxation, and its compressed form set aside while soft weights run.
struct Relaxed {
  Linear* lin = nullptr;
  std::shared_ptr<CompressedLinear> compressed;
  std::unique_ptr<GumbelQuantizer> quantizer;
};

class Gsq final : public BlockRefiner {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info{
        "gsq",
        BlockRefiner::kFamily,
        "GSQ: Gumbel-Softmax grid assignments + per-group scales trained with Lion to match the dense block",
        "Dadgarnia et al., arXiv 2604.18556 (GSQ); IST-DASLab/GSQ",
        "1",
        {param_int("epochs", 10, "epochs over the calibration sequences per pass; 0 keeps the codes").at_least(0),
         param_float("lr_logits", 1e-4, "Lion learning rate of the logits (GSQ lr1)").above(0),
         param_float("lr_scales", 5e-5, "Lion learning rate of the scales (GSQ lr2)").above(0),
         param_float("weight_decay", 1.0, "decoupled weight decay of the logits (scales: none)").at_least(0),
         param_float("min_lr_ratio", 0.1, "cosine decay of both learning rates to this fraction").range(0, 1),
         param_float("tau_start", 2.0, "Gumbel-Softmax temperature at the first step").above(0),
         param_float("tau_end", 0.05, "temperature at the last step (linear in the global step)").above(0),
         param_float("kappa_start", 100.0, "logit scale at the first step").above(0),
         param_float("kappa_end", 500.0, "logit scale at the last step (linear in the global step)").above(0),
         param_float("std", 0.01, "logit init: std * (N(0,1) + strength * centred closeness to the GPTQ code)")
             .above(0),
         param_float("strength", 6.0, "logit init: pull towards the GPTQ code").at_least(0),
         param_int("batch_size", 8, "calibration sequences per Lion step (micro-batches of the engine's size)")
             .at_least(1),
         param_int("seed", 0, "seed of the logit init, the Gumbel noise and the batch order").at_least(0),
         param_bool("self_attn", false, "also train q/k/v/o in an attention pass before the MLP pass"),
         param_string("logits_dtype", "fp32", "dtype of the logits and their Lion state", {"fp32", "bf16"})}};
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }

  void configure(const Params& p) override {
    epochs_ = p.get_int("epochs");
    lr_logits_ = p.get_float("lr_logits");
    lr_scales_ = p.get_float("lr_scales");
    wd_ = p.get_float("weight_decay");
    min_lr_ = p.get_float("min_lr_ratio");
    tau0_ = p.get_float("tau_start");
    tau1_ = p.get_float("tau_end");
    kappa0_ = p.get_float("kappa_start");
    kappa1_ = p.get_float("kappa_end");
    init_.std = p.get_float("std");
    init_.strength = p.get_float("strength");
    init_.bf16_logits = p.get_string("logits_dtype") == "bf16";
    batch_size_ = p.get_int("batch_size");
    seed_ = p.get_int("seed");
    self_attn_ = p.get_bool("self_attn");
  }

  void refine(DecoderBlock& block, const BlockIO& io, RunContext& ctx) override {
    if (epochs_ == 0) return;  // the GPTQ codes, untouched (GSQ would still re-draw its noisy init)
    if (self_attn_) train_pass(block, kAttention, "attn", io, ctx);
    train_pass(block, kMlp, "mlp", io, ctx);
  }

 private:
  // Mean squared error of the block's outputs against the targets, over all of io (no grad).
  static double block_mse(const DecoderBlock& block, const BlockIO& io) {
    at::NoGradGuard no_grad;
    double sum = 0;
    const int64_t n = io.inputs.size(0), mb = std::max<int64_t>(1, io.batch_size);
    for (int64_t i = 0; i < n; i += mb) {
      const int64_t end = std::min(n, i + mb);
      at::Tensor y = block.forward(io.inputs.slice(0, i, end), io.positions).to(at::kFloat);
      sum += (y - io.targets.slice(0, i, end).to(at::kFloat)).square().sum().item<double>();
    }
    return sum / static_cast<double>(io.targets.numel());
  }

  void train_pass(DecoderBlock& block, const std::vector<std::string>& names, const std::string& pass,
                  const BlockIO& io, RunContext& ctx) {
    const int64_t layer = block.layer_index();
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(
        ctx.component_seed(fmt::format("gsq/seed{}/block{}/{}", seed_, layer, pass)));

    std::vector<Relaxed> relaxed;
    std::vector<at::Tensor> logits, scales;
    for (const std::string& name : names) {
      Linear& lin = block.linear(name);
      const CompressedLinear* c = lin.compressed.get();
      // Only pure scalar codes relax onto their grid; sparse or low-rank parts stay as they are.
      if (!c || !c->has_quant() || c->has_sparse() || c->has_low_rank()) {
        ctx.log().debug("gsq block {}: {} is not purely quantized, left as it is", layer, name);
        continue;
      }
      Relaxed r;
      r.lin = &lin;
      r.compressed = lin.compressed;
      r.quantizer = std::make_unique<GumbelQuantizer>(c->quant(), init_, gen);
      logits.push_back(r.quantizer->logits());
      scales.push_back(r.quantizer->scales());
      relaxed.push_back(std::move(r));
    }
    if (relaxed.empty()) return;
    const double mse_before = block_mse(block, io);

    // GSQ's two parameter groups (IST-DASLab/GSQ, src/trainer.py): logits with weight decay,
    // scales without; Lion betas (0.9, 0.95).
    Lion lion_logits(logits, LionOptions{lr_logits_, 0.9, 0.95, wd_});
    Lion lion_scales(scales, LionOptions{lr_scales_, 0.9, 0.95, 0.0});

    // Batches as GSQ's trainer draws them: a random order of the floor(n / bs) aligned chunks per
    // epoch, while the schedules count ceil(n / bs) steps per epoch.
    const int64_t n = io.inputs.size(0);
    const int64_t bs = std::min(batch_size_, n);
    const int64_t chunks = n / bs;
    const int64_t total = (n + bs - 1) / bs * epochs_;
    const int64_t mb = std::max<int64_t>(1, std::min(io.batch_size, bs));
    const c10::ScalarType dtype = io.inputs.scalar_type();

    for (Relaxed& r : relaxed) r.lin->compressed = nullptr;  // soft weights go into lin.weight
    // Put the compressed forms back if training throws (the row fails, the block stays valid).
    struct Restore {
      std::vector<Relaxed>& relaxed;
      ~Restore() {
        for (Relaxed& r : relaxed)
          if (!r.lin->compressed) r.lin->weight = at::Tensor(), r.lin->compressed = r.compressed;
      }
    } restore{relaxed};
    auto progress = ctx.progress(fmt::format("gsq block {} {}", layer, pass), epochs_);
    int64_t step = 0;
    for (int64_t epoch = 0; epoch < epochs_; ++epoch, progress->advance()) {
      at::Tensor order = at::randperm(chunks, gen, at::TensorOptions().dtype(at::kLong));
      double epoch_loss = 0;
      for (int64_t b = 0; b < chunks; ++b) {
        const double t = total > 1 ? static_cast<double>(step) / static_cast<double>(total - 1) : 0.0;
        const double tau = tau0_ + (tau1_ - tau0_) * t;
        const double kappa = kappa0_ + (kappa1_ - kappa0_) * t;
        // CustomLRScheduler (cosine, no warmup): progress over total - 1 steps, 1 when that is 0.
        const double progress_lr = total > 1 ? t : 1.0;
        const double factor = min_lr_ + 0.5 * (1.0 - min_lr_) * (1.0 + std::cos(M_PI * progress_lr));
        lion_logits.set_lr(lr_logits_ * factor);
        lion_scales.set_lr(lr_scales_ * factor);

        const int64_t start = order[b].item<int64_t>() * bs;
        const int64_t n_micro = (bs + mb - 1) / mb;
        for (int64_t i = start; i < start + bs; i += mb) {
          const int64_t end = std::min(start + bs, i + mb);
          // Fresh Gumbel noise for every micro-batch, as GSQ's train_step.
          for (Relaxed& r : relaxed) r.lin->weight = r.quantizer->soft(tau, kappa, gen).to(dtype);
          at::Tensor y = block.forward(io.inputs.slice(0, i, end), io.positions);
          // nn.MSELoss (mean) against the dense block's outputs, averaged over the micro-batches.
          at::Tensor loss = (y.to(at::kFloat) - io.targets.slice(0, i, end).to(at::kFloat)).square().mean();
          (loss / static_cast<double>(n_micro)).backward();
          epoch_loss += loss.item<double>() / static_cast<double>(n_micro);
        }
        lion_logits.step();
        lion_scales.step();
        ++step;
      }
      ctx.log().debug("gsq block {} {} epoch {} soft loss {:.6g}", layer, pass, epoch,
                      chunks ? epoch_loss / static_cast<double>(chunks) : 0.0);
    }
    progress->finish();

    // The hard assignment: argmax codes and the trained scales, back into the compressed forms.
    for (Relaxed& r : relaxed) {
      r.lin->weight = at::Tensor();
      r.compressed->set_quant(r.quantizer->hard());
      r.lin->compressed = r.compressed;
    }
    const double mse_after = block_mse(block, io);
    ctx.log().debug("gsq block {} {}: block MSE {:.6g} -> {:.6g} ({} Lion steps)", layer, pass, mse_before,
                    mse_after, step);
    ctx.count("gsq_lion_steps", step);
  }

  int64_t epochs_ = 10;
  double lr_logits_ = 1e-4, lr_scales_ = 5e-5, wd_ = 1.0, min_lr_ = 0.1;
  double tau0_ = 2.0, tau1_ = 0.05, kappa0_ = 100.0, kappa1_ = 500.0;
  GumbelQuantizerOptions init_;
  int64_t batch_size_ = 8, seed_ = 0;
  bool self_attn_ = false;
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_METHOD(BlockRefiner, repro::Gsq);
