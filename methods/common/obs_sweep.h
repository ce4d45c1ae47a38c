#pragma once
// The column sweep shared by GPTQ and SparseGPT: fix one input column at a time (round it, prune
// it, or both) and spread its error over the columns not fixed yet (the OBS update).
//
// GPTQ writes the update with U, the upper Cholesky factor of H^-1 (row j: the optimal change of
// the later columns per unit error in column j):
//     W[:, j+1:] -= ((w_j - q_j) / U_jj) U[j, j+1:]          (w_j: the current, updated column),
// inside a block of B columns, and applies the updates to the later blocks lazily, one GEMM per
// block. Here the factorization is one Cholesky of H in reverse order, H = R R^T with R upper
// (reverse_cholesky_upper), and U = R^{-1} is never formed: GPTQ's factorization costs three
// (chol, cholesky_inverse, chol). Two facts make that possible:
//  - U's diagonal blocks are the inverses of R's (both triangular): U_bb = R_bb^{-1}, a B x B solve;
//  - the pending update of the later columns, in U terms sum_i err_i U[i, k], equals in R terms
//    A_k = sum_{i fixed} (W_i - Q_i) R_ik (original minus fixed weights), followed, for the columns
//    of block b, by the block-local map W_b <- W_b + A_b U_bb at the start of that block.
// So the sweep accumulates A with one GEMM per block (R's off-diagonal blocks), turns it into
// GPTQ's current weights at each block start, and runs GPTQ's update inside the block (eagerly
// within sub-blocks of a few columns, one GEMM for the rest of the block after each sub-block).
// Every rule sees exactly the weights it sees in GPTQ/SparseGPT; only rounding differs.
//
// The sweep works on the transposed weights Wt [in, out], so a column is a contiguous row.

#include <cstdint>
#include <functional>
#include <vector>

#include <ATen/core/Tensor.h>

namespace repro {

// What to do with each column. Implementations: GPTQ's rounding, SparseGPT's pruning (+ rounding).
class ColumnRule {
 public:
  virtual ~ColumnRule() = default;

  // A rule that reads several columns at once (a quantization group, an N:M group) returns their
  // counts w: at every column j with j % w == 0, rows [j, min(j + w, in)) of `ahead` are then
  // current (all earlier columns' updates applied, as in GPTQ). Empty: only its own column.
  virtual std::vector<int64_t> windows() const { return {}; }

  // At the start of each block [i1, i2): the block's current weights Wt_block [i2 - i1, out]
  // (a view, read-only) and d_block = diag(U)[i1:i2] = 1 / diag(R)[i1:i2], [i2 - i1].
  virtual void begin_block(int64_t /*i1*/, const at::Tensor& /*Wt_block*/, const at::Tensor& /*d_block*/) {}

  // Column j: `ahead` = Wt[j:i2], the rest of the block (a view, read-only). ahead[0] is the
  // current column; other rows are current only as windows() promises.
  // Returns the fixed column q [out] (a new tensor).
  virtual at::Tensor fix(int64_t j, const at::Tensor& ahead) = 0;
};

struct SweepOptions {
  int64_t block_size = 128;  // columns per lazy batch update (GPTQ/SparseGPT blocksize)
  int64_t sub_block = 16;    // columns updated eagerly inside a block
};

// The block and sub-block sizes actually used for a rule's windows: block_size becomes a multiple
// of every window, and the sub-block is halved until every window lies inside one sub-block or
// starts on a sub-block boundary. Throws NotSupported when no block of a sane size serves them.
SweepOptions choose_blocking(SweepOptions requested, const std::vector<int64_t>& windows);

// The original (pre-sweep) rows [i1, i1 + n) of Wt, [n, out] fp32. The sweep needs them once per
// block; a caller that can produce them from its own copy of W spares the sweep a full copy.
using OriginalRows = std::function<at::Tensor(int64_t i1, int64_t n)>;

// Runs the sweep. Wt: [in, out] fp32 contiguous, overwritten by the fixed weights Q^T.
// R: [in, in] fp32 upper triangular with positive diagonal, H = R R^T (reverse_cholesky_upper).
// Same device. Without `original`, the sweep keeps a copy of Wt.
void obs_sweep(at::Tensor& Wt, const at::Tensor& R, ColumnRule& rule, SweepOptions opts = {},
               const OriginalRows& original = {});

}  // namespace repro
