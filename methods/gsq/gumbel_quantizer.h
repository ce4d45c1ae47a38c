#pragma once
// The Gumbel-Softmax relaxation of one quantized linear's grid assignment (GSQ, arXiv 2604.18556;
// IST-DASLab/GSQ, src/quantization/gumbel_quantizer_2bit.py and gumbel_quantizer_int.py).
//
// Every weight holds K logits over candidate codes of its (row, group) grid w = s (code - z):
//   - levels mode (2 bits): the K = 2^bits codes 0..maxq themselves ({-2,-1,0,1} on the symmetric
//     grid);
//   - shifts mode (3 bits and more): K = 5 shifts -2..2 around the initial (GPTQ) code c0; shifts
//     that leave [0, maxq] are masked out.
// The soft weight is s * (sum_k p_k code_k - z) with p = softmax((kappa l + gumbel) / tau) over the
// candidates; the hard weight takes argmax_k l. The scales s (one per row and group, sign kept) train
// with the logits. Works in code space, so any zero point works; on GSQ's symmetric grid
// (z = (maxq + 1) / 2) it is exactly GSQ's parametrization.

#include <cstdint>

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include "models/compressed_linear.h"

namespace repro {

struct GumbelQuantizerOptions {
  double std = 0.01;       // logit init: std * (N(0, 1) + strength * centered closeness)
  double strength = 6.0;
  bool bf16_logits = false;  // store (and update) the logits in bf16, as GSQ's default on GPU
};

class GumbelQuantizer {
 public:
  static constexpr int64_t kShifts = 5;  // shifts mode: -2..2

  // q: the initial codes and grids (codes [out, in] uint8, scales/zeros [out, n_groups] fp32) on
  // the training device. The logits' init noise is drawn from `gen` (a CPU generator).
  GumbelQuantizer(const QuantCodes& q, const GumbelQuantizerOptions& opts, at::Generator& gen);

  bool shifts_mode() const { return shifts_mode_; }
  int64_t candidates() const { return offsets_.size(0); }
  // The trained leaves (requires_grad): logits [K, out, in] fp32 or bf16, scales [out, n_groups] fp32.
  const at::Tensor& logits() const { return logits_; }
  const at::Tensor& scales() const { return scales_; }

  // Soft weights [out, in] fp32 with autograd through logits and scales; fresh Gumbel noise
  // -log(-log(u + 1e-8) + 1e-8), u ~ U(0, 1) from `gen`, for every (candidate, weight).
  at::Tensor soft(double tau, double kappa, at::Generator& gen) const;
  // The same with given noise [K, out, in] fp32 (tests).
  at::Tensor soft_with_noise(double tau, double kappa, const at::Tensor& noise) const;
  // Hard codes argmax_k l (masked candidates excluded): [out, in] fp32, integer-valued in [0, maxq].
  at::Tensor hard_codes() const;
  // The hard assignment with the trained scales, as QuantCodes (metadata of the initial codes).
  // Asserts that the result lies on the grid.
  QuantCodes hard() const;

 private:
  at::Tensor masked_logits() const;  // [K, out, in] fp32, invalid shifts at -1e9

  QuantCodes init_;
  bool shifts_mode_ = false;
  at::Tensor logits_, scales_;
  at::Tensor offsets_;  // [K, 1, 1] fp32: the codes (levels) or the shifts
  at::Tensor base_;     // [out, in] fp32: c0 (shifts mode) or 0
  at::Tensor valid_;    // [K, out, in] bool (shifts mode), else undefined
  at::Tensor groups_;   // [in] int64 group of each column
  at::Tensor zeros_;    // [out, in] fp32 zero point of each weight
};

}  // namespace repro
