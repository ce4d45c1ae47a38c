#pragma once
// The column sweep shared by GPTQ and SparseGPT: fix one input column at a time (round it, prune
// it, or both) and spread its error over the columns not fixed yet (the OBS update).
//
// GPTQ writes the update with U, the upper Cholesky factor of H^-1:
//     W[:, j+1:] -= ((w_j - q_j) / U_jj) U[j, j+1:]          (w_j: the current, updated column).
// Unrolled, the same recursion reads, with R = U^{-1} (upper, H = R R^T):
//     W'_j = W_j + sum_{i<j} (W_i - Q_i) R_ij / R_jj          (W_i: the ORIGINAL column),
// which needs one Cholesky factorization of H (reverse_cholesky_upper) instead of GPTQ's three
// factorizations (chol, cholesky_inverse, chol). The updates are applied lazily, as in GPTQ's
// "lazy batch" and on one more level: eagerly within a sub-block of a few columns, one GEMM for the
// rest of the block after each sub-block, one GEMM for the rest of the matrix after each block.
// Reordering the same updates changes nothing but rounding.
//
// The sweep works on the transposed weights Wt [in, out], so a column is a contiguous row.

#include <cstdint>
#include <vector>

#include <ATen/ATen.h>

namespace repro {

// What to do with each column. Implementations: GPTQ's rounding, SparseGPT's pruning (+ rounding).
class ColumnRule {
 public:
  virtual ~ColumnRule() = default;

  // A rule that reads several columns at once (a quantization group, an N:M group) returns their
  // counts w: at every column j with j % w == 0, rows [j, min(j + w, in)) of `ahead` are then
  // current (all earlier columns' updates applied). Empty: the rule reads only its own column.
  virtual std::vector<int64_t> windows() const { return {}; }

  // At the start of each block [i1, i2): the block's current weights Wt_block [i2 - i1, out]
  // (a view, read-only) and d_block = diag(U)[i1:i2] = 1 / diag(R)[i1:i2], [i2 - i1].
  virtual void begin_block(int64_t /*i1*/, const at::Tensor& /*Wt_block*/, const at::Tensor& /*d_block*/) {}

  // Column j: `ahead` = Wt[j:in] (a view, read-only). ahead[0] is the current column; other rows
  // are current only as windows() promises.
  // Returns the fixed column q [out] (a new tensor).
  virtual at::Tensor fix(int64_t j, const at::Tensor& ahead) = 0;
};

struct SweepOptions {
  int64_t block_size = 128;  // columns per lazy batch update (GPTQ/SparseGPT blocksize)
  int64_t sub_block = 16;    // columns updated eagerly inside a block
};

// The block and sub-block sizes actually used for a rule's windows: block_size becomes a multiple
// of a window when neither divides the other, and the sub-block is halved until every window lies
// inside one sub-block or starts on a sub-block boundary. Throws NotSupported when two windows
// cannot both be honoured.
SweepOptions choose_blocking(SweepOptions requested, const std::vector<int64_t>& windows);

// Runs the sweep. Wt: [in, out] fp32 contiguous, overwritten by the fixed weights Q^T.
// R: [in, in] fp32 upper triangular with positive diagonal, H = R R^T (reverse_cholesky_upper);
// consumed: its columns are scaled in place. Same device.
void obs_sweep(at::Tensor& Wt, at::Tensor R, ColumnRule& rule, SweepOptions opts = {});

}  // namespace repro
