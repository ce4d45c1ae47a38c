#pragma once
// Dynamic fake quantization (quantize, then dequantize) of activations and of the KV cache, as the
// rotation papers simulate it (QuaRot, arXiv 2404.00456 §4, code spcl/QuaRot
// fake_quant/quant_utils.py ActQuantizer; SmoothQuant, arXiv 2211.10438 §4, per-token A8).
// Ranges are recomputed for every token (and every group of a token): nothing is calibrated.

#include <cstdint>
#include <string>

#include <ATen/core/Tensor.h>

namespace repro {

struct FakeQuantSpec {
  int64_t bits = 16;   // 16 = off
  int64_t group = 0;   // entries per (scale, zero) along the last dim; 0 = the whole row (per token)
  double clip = 1.0;   // the range is shrunk to clip * [min, max] before the grid is fitted
  bool asym = false;   // asymmetric (min/max grid with a zero point) or symmetric (absmax)

  bool on() const { return bits < 16; }
  // "a4(sym,clip=0.9)", "off"
  std::string describe() const;
};

// x: [..., n] float, any device; n % group == 0 when group > 0. Returns x's shape, dtype and
// device; the grid is fitted and applied in fp32. Per row (or group) of values v:
//   symmetric:  m = clip * max(|min(v, 0)|, max(v, 0)), s = m / (2^(b-1) - 1),
//               q = clamp(round(v / s), -2^(b-1), 2^(b-1) - 1), v_hat = s q   (s = 1 when m = 0)
//   asymmetric: lo = clip * min(v), hi = clip * max(v) (whole rows also include 0, as QuaRot's
//               per-token quantizer; groups do not, as its group-wise one), s = (hi - lo) / (2^b - 1),
//               z = round(-lo / s), q = clamp(round(v / s) + z, 0, 2^b - 1), v_hat = s (q - z)
//               (a constant group, lo == hi, also includes 0, so it is represented exactly;
//               lo = -1, hi = 1 when both are 0).
// Rounding is half to even (at::round).
at::Tensor fake_quant(const at::Tensor& x, const FakeQuantSpec& spec);

// Keys or values t: [B, H, T, hd] as attention holds them, fake-quantized per token in groups of
// the flattened [H * hd] vector of each token (spec.group divides hd, or is a multiple of hd that
// divides H * hd; 0 = all heads of a token together). Returns t's shape and dtype.
at::Tensor fake_quant_kv(const at::Tensor& t, const FakeQuantSpec& spec);

}  // namespace repro
