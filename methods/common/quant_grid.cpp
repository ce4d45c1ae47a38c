#include "methods/common/quant_grid.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

#include "core/error.h"
#include "methods/common/large_buffer.h"

namespace repro {

namespace {

at::Tensor as_slice_param(const at::Tensor& p, const at::Tensor& x) {
  return p.dim() == x.dim() ? p : p.unsqueeze(-1);
}

// The grid's range: symmetric folding and the all-zero fix, as in GPTQ's Quantizer.find_params.
void fix_range(at::Tensor& xmin, at::Tensor& xmax, const QuantGridOptions& opts) {
  if (opts.sym) {
    xmax = at::maximum(xmin.abs(), xmax);
    xmin = -xmax;
  }
  at::Tensor both_zero = xmin.eq(0).logical_and_(xmax.eq(0));
  xmin = xmin.masked_fill(both_zero, -1.0);
  xmax = xmax.masked_fill(both_zero, 1.0);
}

// Scale and zero of the min-max grid over a fixed range [xmin, xmax] (both [...]).
GridParams grid_from_range(const at::Tensor& xmin, const at::Tensor& xmax, const QuantGridOptions& opts) {
  const double maxq = static_cast<double>(opts.maxq());
  GridParams g;
  g.scale = (xmax - xmin).div_(maxq);
  if (opts.sym)
    g.zero = at::full_like(g.scale, (maxq + 1.0) / 2.0);
  else
    g.zero = at::round(-xmin / g.scale);
  return g;
}

}  // namespace

GridParams fit_grid(const at::Tensor& x_in, const QuantGridOptions& opts) {
  REPRO_ASSERT(opts.bits >= 1 && opts.bits <= 8, "quantization bits outside 1..8");
  at::Tensor x = x_in.to(at::kFloat);
  at::Tensor zero = at::zeros({}, x.options());
  at::Tensor xmin = at::minimum(std::get<0>(x.min(-1)), zero);
  at::Tensor xmax = at::maximum(std::get<0>(x.max(-1)), zero);
  fix_range(xmin, xmax, opts);
  GridParams best = grid_from_range(xmin, xmax, opts);
  if (!opts.clip_search) return best;

  // GPTQ's Quantizer.find_params(mse=True): the zero point of the symmetric grid stays fixed.
  const int64_t maxq = opts.maxq();
  at::Tensor best_err = at::full(xmin.sizes(), std::numeric_limits<float>::infinity(), x.options());
  const int steps = static_cast<int>(opts.clip_max_shrink * opts.clip_grid);
  for (int i = 0; i < steps; ++i) {
    double p = 1.0 - static_cast<double>(i) / opts.clip_grid;
    at::Tensor xmin1 = xmin * p, xmax1 = xmax * p;
    at::Tensor scale1 = (xmax1 - xmin1).div_(static_cast<double>(maxq));
    at::Tensor zero1 = opts.sym ? best.zero : at::round(-xmin1 / scale1);
    at::Tensor q = fake_quantize(x, scale1, zero1, maxq);
    at::Tensor err = q.sub_(x).abs_().pow_(opts.clip_norm).sum(-1);
    if (opts.sym && opts.clip_neg_scale) {
      // The mirrored grid wins only where strictly better (GSQ's quant.py keeps +s on ties).
      at::Tensor qn = fake_quantize(x, -scale1, zero1, maxq);
      at::Tensor err_neg = qn.sub_(x).abs_().pow_(opts.clip_norm).sum(-1);
      at::Tensor use_neg = err_neg.lt(err);
      scale1 = at::where(use_neg, -scale1, scale1);
      err = at::where(use_neg, err_neg, err);
    }
    at::Tensor better = err.lt(best_err);
    best_err = at::where(better, err, best_err);
    best.scale = at::where(better, scale1, best.scale);
    best.zero = at::where(better, zero1, best.zero);
  }
  return best;
}

at::Tensor quantize_codes(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zero, int64_t maxq) {
  at::Tensor q = at::round(x / as_slice_param(scale, x));
  q.add_(as_slice_param(zero, x));
  return q.clamp_(0, static_cast<double>(maxq));
}

at::Tensor dequantize_codes(const at::Tensor& codes, const at::Tensor& scale, const at::Tensor& zero) {
  return (codes - as_slice_param(zero, codes)).mul_(as_slice_param(scale, codes));
}

at::Tensor fake_quantize(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zero, int64_t maxq) {
  return dequantize_codes(quantize_codes(x, scale, zero, maxq), scale, zero);
}

namespace {
template <class Code>
void quantize_slice_cpu(const float* xp, const float* sp, const float* zp, float hi, Code* cp, float* qp, int64_t n) {
  for (int64_t k = 0; k < n; ++k) {
    // The same float operations as quantize_codes/dequantize_codes: round(x / s) + z, clamp.
    float c = std::nearbyint(xp[k] / sp[k]) + zp[k];
    c = c < 0.0f ? 0.0f : (c > hi ? hi : c);
    cp[k] = static_cast<Code>(c);
    qp[k] = (c - zp[k]) * sp[k];
  }
}
}  // namespace

void quantize_slice(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zero, int64_t maxq,
                    at::Tensor& codes_out, at::Tensor& q_out) {
  auto f32 = [](const at::Tensor& t) { return t.is_cpu() && t.scalar_type() == at::kFloat && t.is_contiguous(); };
  const bool codes_ok = codes_out.is_cpu() && codes_out.is_contiguous() &&
                        (codes_out.scalar_type() == at::kFloat || codes_out.scalar_type() == at::kByte);
  if (f32(x) && f32(scale) && f32(zero) && f32(q_out) && codes_ok) {
    const int64_t n = x.numel();
    REPRO_ASSERT(scale.numel() == n && zero.numel() == n && codes_out.numel() == n && q_out.numel() == n,
                 "quantize_slice: sizes");
    const float hi = static_cast<float>(maxq);
    if (codes_out.scalar_type() == at::kByte)
      quantize_slice_cpu(x.data_ptr<float>(), scale.data_ptr<float>(), zero.data_ptr<float>(), hi,
                         codes_out.data_ptr<uint8_t>(), q_out.data_ptr<float>(), n);
    else
      quantize_slice_cpu(x.data_ptr<float>(), scale.data_ptr<float>(), zero.data_ptr<float>(), hi,
                         codes_out.data_ptr<float>(), q_out.data_ptr<float>(), n);
    return;
  }
  at::Tensor c = quantize_codes(x, scale, zero, maxq);
  codes_out.copy_(c);
  q_out.copy_(dequantize_codes(c, scale, zero));
}

int64_t num_groups(int64_t in, int64_t group_size) {
  if (group_size <= 0 || group_size >= in) return 1;
  return (in + group_size - 1) / group_size;
}

namespace {
// W [out, in] -> [out, n_groups, g] with zero padding of a last partial group.
at::Tensor grouped_view(const at::Tensor& W, int64_t group_size) {
  const int64_t out = W.size(0), in = W.size(1);
  const int64_t ng = num_groups(in, group_size);
  const int64_t g = ng == 1 ? in : group_size;
  at::Tensor Wp = W;
  if (ng * g != in) Wp = at::constant_pad_nd(W, {0, ng * g - in}, 0.0);
  return Wp.reshape({out, ng, g});
}
}  // namespace

GridParams fit_group_grids(const at::Tensor& W, const QuantGridOptions& opts, int64_t group_size) {
  REPRO_ASSERT(W.dim() == 2, "fit_group_grids expects a matrix");
  return fit_grid(grouped_view(W.to(at::kFloat), group_size), opts);
}

QuantCodes make_quant_codes(const at::Tensor& codes, const GridParams& grids, const QuantGridOptions& opts,
                            int64_t group_size, at::Tensor g_idx) {
  QuantCodes q;
  q.codes = codes.scalar_type() == at::kByte && codes.is_contiguous() ? codes : copy_large(codes.to(at::kByte));
  q.scales = grids.scale.to(at::kFloat).contiguous();
  q.zeros = grids.zero.to(at::kFloat).contiguous();
  q.g_idx = std::move(g_idx);
  q.bits = opts.bits;
  q.group_size = num_groups(codes.size(1), group_size) == 1 ? -1 : group_size;
  q.symmetric = opts.sym;
  return q;
}

QuantCodes quantize_rtn(const at::Tensor& W_in, const QuantGridOptions& opts, int64_t group_size) {
  REPRO_ASSERT(W_in.dim() == 2, "quantize_rtn expects a matrix");
  at::Tensor W = W_in.to(at::kFloat);
  const int64_t out = W.size(0), in = W.size(1);
  at::Tensor Wg = grouped_view(W, group_size);  // [out, ng, g]
  GridParams grids = fit_grid(Wg, opts);        // [out, ng]
  // quantize_codes, in place in one scratch buffer: round(w / s) + z, clamped.
  at::Tensor q = copy_large(Wg);
  q.div_(grids.scale.unsqueeze(-1)).round_().add_(grids.zero.unsqueeze(-1)).clamp_(0, static_cast<double>(opts.maxq()));
  q = q.view({out, -1});
  if (q.size(1) != in) q = q.narrow(1, 0, in);
  return make_quant_codes(q, grids, opts, group_size);
}

std::vector<ParamSpec> quant_params(const QuantParamDefaults& d) {
  std::vector<ParamSpec> out{
      d.allow_off ? param_int("bits", d.bits, "bits per weight, 2..8; 16: no quantization").range(2, 8).or_value(16)
                  : param_int("bits", d.bits, "bits per weight").range(2, 8),
      param_int("group_size", d.group_size, "input columns per (scale, zero); -1: one per output channel")
          .at_least(1)
          .or_value(-1),
      param_bool("sym", false, "symmetric grid (zero = 2^(bits-1)) instead of asymmetric min-max"),
  };
  if (d.clip_search)
    out.push_back(param_bool("clip_search", false, "MSE search over range shrink factors 1.00..0.21 (norm 2.4)"));
  return out;
}

QuantSettings read_quant(const Params& params) {
  QuantSettings q;
  const int64_t bits = params.get_int("bits");
  q.on = bits != 16;
  q.grid.bits = static_cast<int>(q.on ? bits : 8);
  q.grid.sym = params.get_bool("sym");
  if (params.has("clip_search")) q.grid.clip_search = params.get_bool("clip_search");
  q.group_size = params.get_int("group_size");
  return q;
}

void SweepGrids::set_fixed(at::Tensor scale_t, at::Tensor zero_t, std::vector<int64_t> col_grid) {
  scale_t_ = std::move(scale_t);
  zero_t_ = std::move(zero_t);
  col_grid_ = std::move(col_grid);
  dynamic_ = false;
}

void SweepGrids::set_per_channel(const GridParams& channel) {
  scale_t_ = channel.scale.unsqueeze(0);
  zero_t_ = channel.zero.unsqueeze(0);
  col_grid_.clear();
  dynamic_ = false;
}

void SweepGrids::set_dynamic(int64_t n_groups, int64_t out, int64_t group_size, const QuantGridOptions& opts,
                             const at::TensorOptions& to) {
  scale_t_ = at::empty({n_groups, out}, to);
  zero_t_ = at::empty({n_groups, out}, to);
  group_size_ = group_size;
  opts_ = opts;
  dynamic_ = true;
}

std::vector<int64_t> SweepGrids::windows() const {
  if (dynamic_) return {group_size_};
  return {};
}

std::pair<at::Tensor, at::Tensor> SweepGrids::grid(int64_t j, const at::Tensor& ahead) {
  int64_t row = 0;
  if (dynamic_) {
    row = j / group_size_;
    if (j % group_size_ == 0) {
      const int64_t cols = std::min(group_size_, ahead.size(0));
      GridParams g = fit_grid(ahead.narrow(0, 0, cols).t(), opts_);
      scale_t_.select(0, row).copy_(g.scale);
      zero_t_.select(0, row).copy_(g.zero);
    }
  } else if (!col_grid_.empty()) {
    row = col_grid_[j];
  }
  return {scale_t_.select(0, row), zero_t_.select(0, row)};
}

}  // namespace repro
