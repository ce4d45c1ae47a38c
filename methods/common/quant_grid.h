#pragma once
// Uniform scalar quantization grids (as in IST-DASLab/gptq, quant.py): asymmetric min-max or the GPTQ-repo
// symmetric grid, one grid per row or per (row, group of g input columns), optional MSE clipping
// search. Values on a grid: w = scale * (code - zero), code in [0, maxq], maxq = 2^bits - 1.
// Rounding is torch.round (half to even, std::nearbyint semantics).

#include <cstdint>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "core/params.h"
#include "models/compressed_linear.h"

namespace repro {

struct QuantGridOptions {
  int bits = 4;               // 1..8
  bool sym = false;           // symmetric: xmin = -xmax, zero = 2^(bits-1)
  bool clip_search = false;   // GPTQ's mse=True: shrink the range, keep the best sum |q - w|^norm
  double clip_norm = 2.4;
  int clip_grid = 100;        // shrink factors p = 1 - i / clip_grid ...
  double clip_max_shrink = 0.8;  // ... for i < clip_max_shrink * clip_grid (p = 1.00 .. 0.21)
  // Symmetric grids with clip_search: also try the negated scale at every shrink factor, which
  // mirrors the levels {-2,-1,0,1} s to {2,1,0,-1} |s| (GSQ's GPTQ quantizer, IST-DASLab/GSQ,
  // src/prior/quant.py). The chosen scale may then be negative.
  bool clip_neg_scale = false;

  int64_t maxq() const { return (int64_t{1} << bits) - 1; }
};

// One grid per slice: scale and zero have x's shape without its last dim, fp32.
struct GridParams {
  at::Tensor scale;  // [...] fp32, > 0 (< 0 possible only with clip_neg_scale)
  at::Tensor zero;   // [...] fp32, integer-valued, in [0, maxq]
};

// Fits one grid per slice along the last dim. x: [..., cols] fp32, any device.
// The range always contains 0 (xmin = min(0, min x), xmax = max(0, max x)); an all-zero slice gets
// [-1, 1]. Symmetric: xmax = max(|xmin|, xmax), xmin = -xmax, zero = (maxq + 1) / 2.
GridParams fit_grid(const at::Tensor& x, const QuantGridOptions& opts);

// codes = clamp(round(x / scale) + zero, 0, maxq), fp32 integer-valued. x: [..., cols];
// scale, zero: [...] (one per slice) or already broadcastable to x ([..., 1]).
at::Tensor quantize_codes(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zero, int64_t maxq);
// scale * (codes - zero); shapes as in quantize_codes.
at::Tensor dequantize_codes(const at::Tensor& codes, const at::Tensor& scale, const at::Tensor& zero);
// dequantize_codes(quantize_codes(x)).
at::Tensor fake_quantize(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zero, int64_t maxq);

// Quantizes one slice: codes_out = quantize_codes(x, scale, zero, maxq), q_out = the dequantized
// values. x, scale, zero, q_out: [n] fp32, codes_out: [n] fp32 or uint8, same device; the outputs
// are written in place (q_out may alias x).
// One fused loop on CPU (the per-column step of GPTQ/SparseGPT), ATen ops elsewhere; both round
// half to even and give identical results.
void quantize_slice(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zero, int64_t maxq,
                    at::Tensor& codes_out, at::Tensor& q_out);

// Number of groups of `group_size` input columns (-1 or >= in: one group).
int64_t num_groups(int64_t in, int64_t group_size);

// One grid per (row, group of group_size consecutive columns) of W: scale, zero [out, n_groups].
// W: [out, in] fp32. A last partial group is allowed (zero padding does not move a grid that
// always contains 0, and pads quantize to exactly 0).
GridParams fit_group_grids(const at::Tensor& W, const QuantGridOptions& opts, int64_t group_size);

// Round-to-nearest of a whole matrix on per-(row, group) grids. W: [out, in] fp32 -> codes uint8
// [out, in], scales/zeros [out, n_groups], on W's device.
QuantCodes quantize_rtn(const at::Tensor& W, const QuantGridOptions& opts, int64_t group_size);

// Builds QuantCodes from fp32 integer-valued codes [out, in] and grids [out, n_groups].
QuantCodes make_quant_codes(const at::Tensor& codes, const GridParams& grids, const QuantGridOptions& opts,
                            int64_t group_size, at::Tensor g_idx = {});

// The quantization parameters that GPTQ, RTN and SparseGPT share.
struct QuantSettings {
  bool on = true;           // false: bits = 16 where the method allows it (no quantization)
  QuantGridOptions grid;    // bits, sym, clip_search
  int64_t group_size = 128;  // -1: one grid per output channel
};
struct QuantParamDefaults {
  int64_t bits = 4;
  int64_t group_size = 128;
  bool allow_off = false;    // bits = 16 means "do not quantize" (a pruner's optional quantization)
  bool clip_search = true;   // declare clip_search
};
// bits (2..8, or 16 when allow_off), group_size (-1 or >= 1), sym, [clip_search].
std::vector<ParamSpec> quant_params(const QuantParamDefaults& defaults);
// Reads what quant_params() declared.
QuantSettings read_quant(const Params& params);

// The grids of a column sweep (GPTQ, SparseGPT) on W^T [in, out]: fixed beforehand (per channel,
// or static groups), or dynamic, fitted on the current, already updated weights when a group of
// group_size columns starts (the GPTQ repo's convention).
class SweepGrids {
 public:
  // Fixed: scale_t, zero_t [n_grids, out]; column j uses row col_grid[j] ([in] entries).
  void set_fixed(at::Tensor scale_t, at::Tensor zero_t, std::vector<int64_t> col_grid);
  // One grid [out] per output channel for every column.
  void set_per_channel(const GridParams& channel);
  // Dynamic groups of group_size consecutive columns in sweep order.
  void set_dynamic(int64_t n_groups, int64_t out, int64_t group_size, const QuantGridOptions& opts,
                   const at::TensorOptions& to);

  bool dynamic() const { return dynamic_; }
  // The lazy-update window sizes a sweep must respect ({group_size} when dynamic).
  std::vector<int64_t> windows() const;
  // (scale, zero) [out] of column j. ahead: [>= 1, out] rows j.. of the current W^T (a dynamic grid
  // is fitted on its first min(group_size, rows) rows when j starts a group).
  std::pair<at::Tensor, at::Tensor> grid(int64_t j, const at::Tensor& ahead);
  // The grids as [out, n_grids] (for make_quant_codes).
  GridParams grids() const { return {scale_t_.t(), zero_t_.t()}; }

 private:
  at::Tensor scale_t_, zero_t_;  // [n_grids, out]
  std::vector<int64_t> col_grid_;
  bool dynamic_ = false;
  int64_t group_size_ = -1;
  QuantGridOptions opts_;
};

}  // namespace repro
