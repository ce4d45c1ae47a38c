#pragma once
// CompressedLinear: a linear layer's weight in compressed form, W_hat = Q(S) + U V, where any
// subset of the parts may be present:
//   - sparse part: values [out, in] (zeros outside the mask) and its mask [out, in] bool;
//   - quantized codes of the (sparse) part: integer codes, per-group scales and zeros;
//   - low-rank factors U [out, r] and V [r, in].
// forward() runs from this form (dequantize codes on the fly; x S^T + (x V^T) U^T) rather than from
// a reconstructed dense matrix; dense() gives the reconstruction. Tests check that both agree.

#include <cstdint>
#include <string>

#include <ATen/core/Tensor.h>
#include <nlohmann/json_fwd.hpp>

namespace repro {

// Scalar quantization codes on a per-group uniform grid: w = scale * (code - zero).
struct QuantCodes {
  at::Tensor codes;   // [out, in] uint8 (values 0 .. 2^bits - 1)
  at::Tensor scales;  // [out, n_groups] fp32
  at::Tensor zeros;   // [out, n_groups] fp32 (integer-valued)
  at::Tensor g_idx;   // [in] int64 group of each input column (undefined: column j -> j / group_size)
  int bits = 0;
  int64_t group_size = -1;  // -1: one group per row (per-channel)
  bool symmetric = false;

  bool defined() const { return codes.defined(); }
  int64_t n_groups() const { return scales.defined() ? scales.size(1) : 0; }
  // Per-column group index [in] int64 (from g_idx or group_size).
  at::Tensor column_groups() const;
  at::Tensor dequantize() const;  // [out, in] fp32
  // The codes bit-packed for storage (pack_codes); codes stay unpacked for the simulated forward.
  at::Tensor packed() const;
};

// Bit-packed integer codes: each row's `in` codes of `bits` bits laid end to end, least significant
// bit first, in ceil(in * bits / 8) bytes (a row is padded to a whole byte, so rows stay
// addressable). codes: [out, in] uint8 (values < 2^bits), any device -> [out, packed_row_bytes]
// uint8 on the same device.
at::Tensor pack_codes(const at::Tensor& codes, int bits);
// The inverse: [out, packed_row_bytes] uint8 -> [out, in] uint8.
at::Tensor unpack_codes(const at::Tensor& packed, int bits, int64_t in);
// Bytes of one packed row: ceil(in * bits / 8).
int64_t packed_row_bytes(int64_t in, int bits);

struct StorageStats {
  int64_t numel = 0;          // out * in
  int64_t nnz = 0;            // nonzeros of the sparse/quantized part (numel when dense)
  int64_t rank = 0;           // low-rank factor rank (0 when absent)
  int64_t low_rank_params = 0;  // rank * (out + in): parameters of the low-rank factors
  double bits = 0;            // total storage bits of the weight (excluding bias)
  double bits_per_weight() const { return numel ? bits / static_cast<double>(numel) : 0.0; }
  nlohmann::json to_json() const;
};

class CompressedLinear {
 public:
  // Bits assumed for one unquantized stored value (fp16/bf16 checkpoints).
  static constexpr int kValueBits = 16;

  CompressedLinear() = default;
  static CompressedLinear from_dense(at::Tensor weight);  // unchanged weight (counts as 16 bit)

  int64_t out_features() const { return out_; }
  int64_t in_features() const { return in_; }

  // Setters validate shapes (InternalError on a mismatch: plugins build these).
  void set_sparse(at::Tensor values, at::Tensor mask);   // [out, in], mask bool
  void set_quant(QuantCodes q);                          // codes of the whole weight (or of its sparse part)
  void set_low_rank(at::Tensor U, at::Tensor V);         // [out, r], [r, in]
  void set_dense(at::Tensor weight);                     // a plain dense weight (no compression)
  // N:M metadata for storage accounting (0, 0: unstructured).
  void set_pattern(int n, int m) { n_ = n; m_ = m; }

  bool has_sparse() const { return mask_.defined(); }
  bool has_quant() const { return quant_.defined(); }
  bool has_low_rank() const { return U_.defined(); }
  const at::Tensor& mask() const { return mask_; }
  const at::Tensor& sparse_values() const { return values_; }
  const QuantCodes& quant() const { return quant_; }
  const at::Tensor& U() const { return U_; }
  const at::Tensor& V() const { return V_; }

  // The main part (sparse and/or quantized, or plain dense) without the low-rank term. [out, in] fp32
  at::Tensor base() const;
  // Reconstructed weight W_hat = base + U V. [out, in] fp32
  at::Tensor dense() const;
  // y = x W_hat^T from the compressed form. x: [..., in] any float dtype; returns x's dtype.
  at::Tensor forward(const at::Tensor& x) const;

  StorageStats stats() const;

  // Moves every tensor to a device (codes stay integer).
  void to(c10::Device device);
  // A deep copy: every tensor cloned (a plain copy shares the tensors' storage).
  CompressedLinear clone() const;

 private:
  void check_shape(const at::Tensor& t, int64_t rows, int64_t cols, const char* what) const;

  int64_t out_ = 0, in_ = 0;
  at::Tensor dense_;           // plain weight when nothing else is set
  at::Tensor values_, mask_;   // sparse part
  QuantCodes quant_;
  at::Tensor U_, V_;
  int n_ = 0, m_ = 0;
};

}  // namespace repro
