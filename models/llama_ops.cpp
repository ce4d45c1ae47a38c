#include "models/llama_ops.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"

namespace repro {
namespace {
// Queries per attention block: bounds the fp32 score buffer to B * Hq * kQueryBlock * T floats.
constexpr int64_t kQueryBlock = 256;
}  // namespace

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  const at::ScalarType dtype = x.scalar_type();
  at::Tensor h = x.to(at::kFloat);
  at::Tensor variance = h.pow(2).mean(-1, /*keepdim=*/true);
  h = h * at::rsqrt(variance + eps);
  return weight * h.to(dtype);
}

// Mirrors transformers' _compute_default_rope_parameters / _compute_linear_scaling_rope_parameters /
// _compute_llama3_parameters op by op (fp32 tensors, Python scalars), so the values agree bitwise.
at::Tensor rope_inv_freq(const LlamaConfig& config) {
  const int64_t dim = config.head_dim;
  at::Tensor exponents = at::arange(0, dim, 2, at::TensorOptions().dtype(at::kLong)).to(at::kFloat) / dim;
  at::Tensor inv_freq = at::reciprocal(at::pow(config.rope_theta, exponents));
  const RopeScaling& s = config.rope_scaling;
  if (s.type == RopeScaling::Type::kLinear) {
    inv_freq = inv_freq / s.factor;
  } else if (s.type == RopeScaling::Type::kLlama3) {
    const double old_context = static_cast<double>(s.original_max_position_embeddings);
    const double low_freq_wavelen = old_context / s.low_freq_factor;
    const double high_freq_wavelen = old_context / s.high_freq_factor;
    at::Tensor wavelen = at::reciprocal(inv_freq) * (2 * M_PI);
    // Wavelengths above low_freq_wavelen: divide by factor; below high_freq_wavelen: unchanged.
    at::Tensor scaled = at::where(at::gt(wavelen, low_freq_wavelen), inv_freq / s.factor, inv_freq);
    // In between: interpolate smoothly.
    at::Tensor smooth =
        (at::reciprocal(wavelen) * old_context - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
    at::Tensor smoothed = (1 - smooth) * scaled / s.factor + smooth * scaled;
    at::Tensor is_medium = at::logical_not(at::lt(wavelen, high_freq_wavelen)) *
                           at::logical_not(at::gt(wavelen, low_freq_wavelen));
    inv_freq = at::where(is_medium, smoothed, scaled);
  }
  return inv_freq;
}

std::pair<at::Tensor, at::Tensor> rope_cos_sin(const at::Tensor& inv_freq, const at::Tensor& position_ids,
                                               at::ScalarType dtype) {
  REPRO_ASSERT(position_ids.dim() == 1 || position_ids.dim() == 2, "position_ids must be [T] or [B, T]");
  at::Tensor pos = position_ids.to(inv_freq.device(), at::kFloat).unsqueeze(-1);  // [..., T, 1]
  at::Tensor freqs = pos * inv_freq.to(at::kFloat);                                // [..., T, hd/2]
  at::Tensor emb = at::cat({freqs, freqs}, -1);
  return {emb.cos().to(dtype), emb.sin().to(dtype)};
}

at::Tensor rotate_half(const at::Tensor& x) {
  const int64_t half = x.size(-1) / 2;
  at::Tensor x1 = x.narrow(-1, 0, half);
  at::Tensor x2 = x.narrow(-1, half, x.size(-1) - half);
  return at::cat({-x2, x1}, -1);
}

at::Tensor apply_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  at::Tensor c = cos, s = sin;
  if (c.dim() == 3) c = c.unsqueeze(1), s = s.unsqueeze(1);  // [B, 1, T, hd]
  return x * c + rotate_half(x) * s;
}

at::Tensor causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t sliding_window,
                            int64_t q_offset) {
  REPRO_ASSERT(q.dim() == 4 && k.dim() == 4 && v.dim() == 4, "attention expects [B, H, T, hd] tensors");
  const int64_t B = q.size(0), Hq = q.size(1), T = q.size(2), hd = q.size(3);
  const int64_t Hkv = k.size(1), P = q_offset;
  REPRO_ASSERT(Hkv > 0 && Hq % Hkv == 0 && k.size(2) == P + T && v.sizes() == k.sizes() && k.size(3) == hd,
               fmt::format("attention shapes q [{}], k [{}], v [{}]", fmt::join(q.sizes(), ", "),
                           fmt::join(k.sizes(), ", "), fmt::join(v.sizes(), ", ")));
  const int64_t rep = Hq / Hkv;
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
  // Query head h = g * rep + r reads key head g: fold r into the query rows of group g.
  at::Tensor qg = q.reshape({B, Hkv, rep, T, hd});
  const auto index_opts = at::TensorOptions().dtype(at::kLong).device(q.device());

  std::vector<at::Tensor> outs;
  for (int64_t t0 = 0; t0 < T; t0 += kQueryBlock) {
    const int64_t t1 = std::min(T, t0 + kQueryBlock), C = t1 - t0;
    at::Tensor qb = qg.narrow(3, t0, C).reshape({B, Hkv, rep * C, hd});
    const int64_t S = P + t1;  // keys up to the block's last query; later keys are all masked
    at::Tensor kb = k.narrow(2, 0, S), vb = v.narrow(2, 0, S);
    at::Tensor scores = at::matmul(qb, kb.transpose(-1, -2)).to(at::kFloat) * scale;  // [B, Hkv, rep*C, S]
    at::Tensor tpos = at::arange(P + t0, P + t1, index_opts).unsqueeze(1);
    at::Tensor spos = at::arange(0, S, index_opts).unsqueeze(0);
    at::Tensor masked = at::gt(spos, tpos);  // [C, S]
    if (sliding_window > 0) masked = at::logical_or(masked, at::ge(tpos - spos, sliding_window));
    scores = scores.view({B, Hkv, rep, C, S}).masked_fill(masked, -std::numeric_limits<double>::infinity());
    at::Tensor probs = at::softmax(scores, -1).to(v.scalar_type()).view({B, Hkv, rep * C, S});
    outs.push_back(at::matmul(probs, vb).view({B, Hkv, rep, C, hd}));
  }
  at::Tensor out = outs.size() == 1 ? outs[0] : at::cat(outs, 3);
  return out.reshape({B, Hq, T, hd});
}

}  // namespace repro
