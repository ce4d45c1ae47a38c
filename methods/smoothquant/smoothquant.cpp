// SmoothQuant (Xiao et al., ICML 2023, arXiv 2211.10438 §4, Eq. 4): migrate the activation
// outliers of the linears that follow a norm into their weights. Per input channel j of the
// inputs after input_layernorm (read by q/k/v) and after post_attention_layernorm (gate/up):
//   s_j = amax_j^alpha / max_j|W[:, j]|^(1 - alpha),
// amax_j = max over calibration tokens of |X_j|, the weight maximum over all the linears that
// share the input; then norm.weight /= s and W[:, j] *= s_j. The function is unchanged.
// Statistics as mit-han-lab/smoothquant (smoothquant/calibration.py get_act_scales, smooth.py
// smooth_ln_fcs_llama_like): maxima of |x| per channel, the weight maximum clamped at 1e-5, s clamped
// at 1e-5.

#include <ATen/ATen.h>

#include <fmt/format.h>

#include "core/error.h"
#include "core/run_context.h"
#include "methods/api/model_transform.h"
#include "models/llama.h"

namespace repro {
namespace {

// Calibration sequences per block forward (the engine's default batch).
constexpr int64_t kBatch = 8;
constexpr double kMinScale = 1e-5;

// Running per-channel max |x| of a linear's input.
struct ChannelMax {
  at::Tensor amax;  // [in] fp32
  void add(const at::Tensor& x) {
    at::Tensor m = x.detach().abs().reshape({-1, x.size(-1)}).amax(0).to(at::kFloat);
    amax = amax.defined() ? at::maximum(amax, m) : m;
  }
};

class SmoothQuant final : public ModelTransform {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info{
        "smoothquant",
        ModelTransform::kFamily,
        "SmoothQuant: move activation outliers into the weights of q/k/v and gate/up (norms divided by s)",
        "Xiao et al. 2023, SmoothQuant (arXiv 2211.10438)",
        "1",
        {param_float("alpha", 0.5, "migration strength: s = amax^alpha / wmax^(1 - alpha)").range(0, 1)}};
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }
  void configure(const Params& params) override { alpha_ = params.get_float("alpha"); }

  // calibration: [n, T] int64 tokens. Runs block by block on ctx.device() like the layer-wise
  // engine (each block returns to where it was); statistics of full-precision activations (the
  // fake quantization of act_quant is paused, the rotations stay).
  void apply(CausalLM& model, const at::Tensor& calibration, RunContext& ctx) override {
    at::NoGradGuard no_grad;
    if (!calibration.defined() || calibration.dim() != 2 || calibration.numel() == 0)
      throw DataError("smoothquant needs calibration windows (suite parameters nsamples, calibration)");
    QuantSimPause pause(model);
    const c10::ScalarType dtype = model.embed_tokens.scalar_type();
    const c10::Device home = model.embed_tokens.device();
    const int64_t n = calibration.size(0), T = calibration.size(1);
    const at::Tensor positions = at::arange(T, at::TensorOptions().dtype(at::kLong).device(ctx.device()));
    at::Tensor hidden = model.embed(calibration.to(home)).to(ctx.device());
    auto progress = ctx.progress("smoothquant", model.num_layers());
    for (int64_t i = 0; i < model.num_layers(); ++i) {
      DecoderBlock& b = model.block(i);
      b.to(ctx.device(), dtype);
      ChannelMax attn, mlp;
      b.q_proj.on_input = [&attn](const at::Tensor& x) { attn.add(x); };
      b.gate_proj.on_input = [&mlp](const at::Tensor& x) { mlp.add(x); };
      for (int64_t r = 0; r < n; r += kBatch) {
        const int64_t e = std::min(n, r + kBatch);
        b.forward(hidden.slice(0, r, e), positions);
      }
      b.q_proj.on_input = nullptr;
      b.gate_proj.on_input = nullptr;
      smooth(b.input_layernorm, {&b.q_proj, &b.k_proj, &b.v_proj}, attn.amax);
      smooth(b.post_attention_layernorm, {&b.gate_proj, &b.up_proj}, mlp.amax);
      // The next block's inputs: the smoothed block computes the same function.
      for (int64_t r = 0; r < n; r += kBatch) {
        const int64_t e = std::min(n, r + kBatch);
        hidden.slice(0, r, e).copy_(b.forward(hidden.slice(0, r, e), positions));
      }
      b.to(home, dtype);
      progress->advance();
    }
    progress->finish();
  }

 private:
  // norm: [D]; linears read norm's output ([out, D] each); amax: [D] fp32.
  void smooth(at::Tensor& norm, std::initializer_list<Linear*> linears, const at::Tensor& amax) const {
    REPRO_ASSERT(amax.defined() && amax.numel() == norm.numel(), "smoothquant: no activation statistics");
    at::Tensor wmax;
    for (Linear* l : linears) {
      at::Tensor m = l->weight.detach().abs().amax(0).to(at::kFloat);
      wmax = wmax.defined() ? at::maximum(wmax, m) : m;
    }
    at::Tensor a = amax.to(wmax.device());
    at::Tensor s = (a.pow(alpha_) / wmax.clamp_min(kMinScale).pow(1.0 - alpha_)).clamp_min(kMinScale);
    norm = (norm.to(at::kFloat) / s).to(norm.scalar_type());
    for (Linear* l : linears) l->weight = (l->weight.to(at::kFloat) * s).to(l->weight.scalar_type());
  }

  double alpha_ = 0.5;
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_METHOD(ModelTransform, repro::SmoothQuant);
