#include "methods/gsq/gumbel_quantizer.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include "core/error.h"
#include "methods/common/quant_grid.h"

namespace repro {

GumbelQuantizer::GumbelQuantizer(const QuantCodes& q, const GumbelQuantizerOptions& opts, at::Generator& gen)
    : init_(q) {
  REPRO_ASSERT(q.defined() && q.bits >= 2 && q.bits <= 8, "GumbelQuantizer: 2..8-bit codes expected");
  at::NoGradGuard no_grad;
  const at::TensorOptions f32 = q.scales.options().dtype(at::kFloat);
  const int64_t maxq = (int64_t{1} << q.bits) - 1;
  const at::Tensor c0 = q.codes.to(at::kFloat);  // [out, in]
  const int64_t out = c0.size(0), in = c0.size(1);
  groups_ = q.column_groups().to(c0.device());
  zeros_ = q.zeros.to(at::kFloat).index_select(1, groups_);

  // GSQ: 2 bits -> logits over the 4 levels (gumbel_quantizer_2bit.py); 3 and 4 bits -> the
  // "Int" quantizer, 5 shifts around the GPTQ code (gumbel_quantizer_int.py).
  shifts_mode_ = q.bits >= 3;
  at::Tensor closeness;  // a_k, [K, out, in] or broadcastable
  if (shifts_mode_) {
    offsets_ = at::arange(-2, 3, f32).view({kShifts, 1, 1});
    base_ = c0;
    at::Tensor cand = c0.unsqueeze(0) + offsets_;
    valid_ = cand.ge(0).logical_and_(cand.le(static_cast<double>(maxq)));
    // a_k = -0.5 shift^2, centred by its mean over the valid shifts only.
    at::Tensor a = (offsets_.square() * -0.5).expand({kShifts, out, in});
    at::Tensor vf = valid_.to(at::kFloat);
    at::Tensor mean = (a * vf).sum(0, /*keepdim=*/true) / vf.sum(0, /*keepdim=*/true);
    closeness = a - mean;
  } else {
    offsets_ = at::arange(0, maxq + 1, f32).view({maxq + 1, 1, 1});
    base_ = at::zeros_like(c0);
    // a_k = -0.5 (u - v_k)^2 with u = Q / s = c0 - z and v_k = k - z: the zero point cancels.
    at::Tensor a = (c0.unsqueeze(0) - offsets_).square_().mul_(-0.5);
    closeness = a - a.mean(0, /*keepdim=*/true);
  }
  const int64_t K = offsets_.size(0);
  at::Tensor noise = at::randn({K, out, in}, gen, at::TensorOptions().dtype(at::kFloat)).to(c0.device());
  at::Tensor logits = noise.add_(closeness, opts.strength).mul_(opts.std);
  logits_ = logits.to(opts.bf16_logits ? at::kBFloat16 : at::kFloat).detach().requires_grad_(true);
  scales_ = q.scales.to(at::kFloat).clone().detach().requires_grad_(true);
}

at::Tensor GumbelQuantizer::masked_logits() const {
  at::Tensor l = logits_.to(at::kFloat);
  return valid_.defined() ? l.masked_fill(valid_.logical_not(), -1e9) : l;
}

at::Tensor GumbelQuantizer::soft_with_noise(double tau, double kappa, const at::Tensor& noise) const {
  at::Tensor p = at::softmax((masked_logits() * kappa + noise) / tau, 0);  // [K, out, in]
  at::Tensor code = base_ + (p * offsets_).sum(0);                         // expected code
  return scales_.index_select(1, groups_) * (code - zeros_);
}

at::Tensor GumbelQuantizer::soft(double tau, double kappa, at::Generator& gen) const {
  constexpr double eps = 1e-8;
  at::Tensor u = at::rand(logits_.sizes(), gen, at::TensorOptions().dtype(at::kFloat));
  at::Tensor noise = u.add_(eps).log_().neg_().add_(eps).log_().neg_();
  return soft_with_noise(tau, kappa, noise.to(logits_.device()));
}

at::Tensor GumbelQuantizer::hard_codes() const {
  at::NoGradGuard no_grad;
  at::Tensor k = masked_logits().argmax(0);  // [out, in]
  return base_ + offsets_.flatten().index_select(0, k.flatten()).view_as(base_);
}

QuantCodes GumbelQuantizer::hard() const {
  at::NoGradGuard no_grad;
  const int64_t maxq = (int64_t{1} << init_.bits) - 1;
  at::Tensor codes = hard_codes();
  REPRO_ASSERT(codes.ge(0).all().item<bool>() && codes.le(static_cast<double>(maxq)).all().item<bool>(),
               "GSQ: a hard code left [0, maxq]");
  QuantCodes q = init_;
  q.codes = codes.to(at::kByte).contiguous();
  q.scales = scales_.detach().clone().contiguous();
  REPRO_ASSERT(q.scales.isfinite().all().item<bool>() && q.scales.ne(0).all().item<bool>(),
               "GSQ: a trained scale is zero or not finite");
  // On the grid: the dequantized weights round back to exactly these codes.
  at::Tensor s = q.scales.index_select(1, groups_);
  at::Tensor back = quantize_codes(q.dequantize(), s, zeros_, maxq);
  REPRO_ASSERT(at::equal(back, codes), "GSQ: hard weights are not on their grid");
  return q;
}

}  // namespace repro
