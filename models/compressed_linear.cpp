#include "models/compressed_linear.h"

#include <ATen/ATen.h>

#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace repro {

at::Tensor QuantCodes::column_groups() const {
  if (g_idx.defined()) return g_idx;
  int64_t in = codes.size(1);
  int64_t g = group_size > 0 ? group_size : in;
  return at::arange(in, codes.options().dtype(at::kLong)).div(g, "floor");
}

at::Tensor QuantCodes::dequantize() const {
  REPRO_ASSERT(defined(), "dequantize() on empty codes");
  at::Tensor groups = column_groups();
  at::Tensor s = scales.index_select(1, groups);  // [out, in]
  at::Tensor z = zeros.index_select(1, groups);
  return s * (codes.to(at::kFloat) - z);
}

at::Tensor QuantCodes::packed() const {
  REPRO_ASSERT(defined(), "packed() on empty codes");
  return pack_codes(codes, bits);
}

int64_t packed_row_bytes(int64_t in, int bits) { return (in * bits + 7) / 8; }

at::Tensor pack_codes(const at::Tensor& codes, int bits) {
  REPRO_ASSERT(codes.dim() == 2 && codes.scalar_type() == at::kByte, "pack_codes: [out, in] uint8 codes");
  REPRO_ASSERT(bits >= 1 && bits <= 8, "pack_codes: bits in [1, 8]");
  const int64_t out = codes.size(0), in = codes.size(1), bytes = packed_row_bytes(in, bits);
  REPRO_ASSERT(bits == 8 || codes.numel() == 0 || codes.max().item<int64_t>() < (int64_t{1} << bits),
               "pack_codes: a code does not fit in " + std::to_string(bits) + " bits");
  auto byte_opts = codes.options();
  // [out, in, bits] bit planes, least significant first, then 8 bits per byte.
  at::Tensor shifts = at::arange(bits, byte_opts.dtype(at::kInt));
  at::Tensor plane = codes.to(at::kInt).unsqueeze(-1).bitwise_right_shift(shifts).bitwise_and(1).reshape({out, in * bits});
  plane = at::constant_pad_nd(plane, {0, bytes * 8 - in * bits}).reshape({out, bytes, 8});
  at::Tensor weights = at::ones({8}, byte_opts.dtype(at::kInt)).bitwise_left_shift(at::arange(8, byte_opts.dtype(at::kInt)));
  return (plane * weights).sum(-1).to(at::kByte);
}

at::Tensor unpack_codes(const at::Tensor& packed, int bits, int64_t in) {
  REPRO_ASSERT(packed.dim() == 2 && packed.scalar_type() == at::kByte, "unpack_codes: [out, bytes] uint8");
  REPRO_ASSERT(bits >= 1 && bits <= 8 && packed.size(1) == packed_row_bytes(in, bits), "unpack_codes: bad shape");
  const int64_t out = packed.size(0);
  auto opts = packed.options().dtype(at::kInt);
  at::Tensor plane = packed.to(at::kInt).unsqueeze(-1).bitwise_right_shift(at::arange(8, opts)).bitwise_and(1);
  plane = plane.reshape({out, -1}).narrow(1, 0, in * bits).reshape({out, in, bits});
  at::Tensor weights = at::ones({bits}, opts).bitwise_left_shift(at::arange(bits, opts));
  return (plane * weights).sum(-1).to(at::kByte);
}

nlohmann::json StorageStats::to_json() const {
  return {{"numel", numel}, {"nnz", nnz}, {"rank", rank}, {"low_rank_params", low_rank_params}, {"bits", bits},
          {"bits_per_weight", bits_per_weight()}};
}

CompressedLinear CompressedLinear::from_dense(at::Tensor weight) {
  CompressedLinear c;
  c.set_dense(std::move(weight));
  return c;
}

void CompressedLinear::check_shape(const at::Tensor& t, int64_t rows, int64_t cols, const char* what) const {
  REPRO_ASSERT(t.dim() == 2 && t.size(0) == rows && t.size(1) == cols,
               fmt::format("{} has shape [{}], expected [{}, {}]", what, fmt::join(t.sizes(), ", "), rows, cols));
}

void CompressedLinear::set_dense(at::Tensor weight) {
  REPRO_ASSERT(weight.dim() == 2, "dense weight must be 2-D");
  if (out_ == 0) out_ = weight.size(0), in_ = weight.size(1);
  check_shape(weight, out_, in_, "dense weight");
  dense_ = weight.to(at::kFloat).contiguous();
}

void CompressedLinear::set_sparse(at::Tensor values, at::Tensor mask) {
  REPRO_ASSERT(values.dim() == 2, "sparse values must be 2-D");
  if (out_ == 0) out_ = values.size(0), in_ = values.size(1);
  check_shape(values, out_, in_, "sparse values");
  check_shape(mask, out_, in_, "sparse mask");
  mask_ = mask.to(at::kBool).contiguous();
  values_ = (values.to(at::kFloat) * mask_).contiguous();
}

void CompressedLinear::set_quant(QuantCodes q) {
  REPRO_ASSERT(q.defined() && q.codes.dim() == 2, "quant codes must be 2-D");
  if (out_ == 0) out_ = q.codes.size(0), in_ = q.codes.size(1);
  check_shape(q.codes, out_, in_, "quant codes");
  REPRO_ASSERT(q.bits >= 1 && q.bits <= 8, fmt::format("quant bits {} outside 1..8", q.bits));
  REPRO_ASSERT(q.scales.size(0) == out_ && q.zeros.sizes() == q.scales.sizes(), "scales/zeros shape");
  quant_ = std::move(q);
}

void CompressedLinear::set_low_rank(at::Tensor U, at::Tensor V) {
  REPRO_ASSERT(U.dim() == 2 && V.dim() == 2 && U.size(1) == V.size(0), "low-rank factors must be [out,r] x [r,in]");
  if (out_ == 0) out_ = U.size(0), in_ = V.size(1);
  check_shape(U, out_, U.size(1), "U");
  check_shape(V, V.size(0), in_, "V");
  U_ = U.to(at::kFloat).contiguous();
  V_ = V.to(at::kFloat).contiguous();
}

at::Tensor CompressedLinear::base() const {
  if (has_quant()) {
    at::Tensor q = quant_.dequantize();
    return has_sparse() ? q * mask_ : q;
  }
  if (has_sparse()) return values_;
  if (dense_.defined()) return dense_;
  REPRO_ASSERT(has_low_rank(), "empty CompressedLinear");
  return at::zeros({out_, in_}, U_.options());
}

at::Tensor CompressedLinear::dense() const {
  at::Tensor w = base();
  if (has_low_rank()) w = w + at::matmul(U_, V_);
  return w;
}

at::Tensor CompressedLinear::forward(const at::Tensor& x) const {
  at::Tensor xf = x.to(at::kFloat);
  at::Tensor y;
  if (has_quant() || has_sparse() || dense_.defined()) y = at::matmul(xf, base().t());
  if (has_low_rank()) {
    at::Tensor lr = at::matmul(at::matmul(xf, V_.t()), U_.t());
    y = y.defined() ? y + lr : lr;
  }
  return y.to(x.scalar_type());
}

StorageStats CompressedLinear::stats() const {
  StorageStats s;
  s.numel = out_ * in_;
  const double numel = static_cast<double>(s.numel);
  if (has_sparse()) {
    s.nnz = mask_.sum().item<int64_t>();
  } else {
    s.nnz = s.numel;
  }
  double value_bits = has_quant() ? quant_.bits : kValueBits;
  double bits = static_cast<double>(s.nnz) * value_bits;
  // Dense quantized weights are stored bit-packed, each row padded to a whole byte (pack_codes).
  if (has_quant() && !has_sparse())
    bits = 8.0 * static_cast<double>(out_ * packed_row_bytes(in_, quant_.bits));
  if (has_sparse() && s.nnz < s.numel) {
    // N:M: ceil(log2(M)) index bits per kept value; unstructured: a 1-bit-per-weight bitmap.
    if (m_ > 0) bits += static_cast<double>(s.nnz) * std::ceil(std::log2(static_cast<double>(m_)));
    else bits += numel;
  }
  if (has_quant()) {
    // One fp16 scale per group; asymmetric grids also store a bits-wide zero point.
    double per_group = 16.0 + (quant_.symmetric ? 0.0 : quant_.bits);
    bits += static_cast<double>(out_ * quant_.n_groups()) * per_group;
  }
  if (has_low_rank()) {
    s.rank = U_.size(1);
    s.low_rank_params = s.rank * (out_ + in_);
    bits += static_cast<double>(s.rank * (out_ + in_)) * kValueBits;
  }
  s.bits = bits;
  return s;
}

CompressedLinear CompressedLinear::clone() const {
  CompressedLinear c = *this;
  auto cl = [](at::Tensor& t) {
    if (t.defined()) t = t.detach().clone();
  };
  cl(c.dense_);
  cl(c.values_);
  cl(c.mask_);
  cl(c.quant_.codes);
  cl(c.quant_.scales);
  cl(c.quant_.zeros);
  cl(c.quant_.g_idx);
  cl(c.U_);
  cl(c.V_);
  return c;
}

void CompressedLinear::to(c10::Device device) {
  auto mv = [&](at::Tensor& t) {
    if (t.defined()) t = t.to(device);
  };
  mv(dense_);
  mv(values_);
  mv(mask_);
  mv(quant_.codes);
  mv(quant_.scales);
  mv(quant_.zeros);
  mv(quant_.g_idx);
  mv(U_);
  mv(V_);
}

}  // namespace repro
