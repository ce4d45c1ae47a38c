#pragma once
// The column sweep shared by GPTQ and SparseGPT: fix one input column at a time (round it, prune
// it, or both) and spread its error over the columns not fixed yet with the OBS update
//     W[:, j+1:] -= ((w_j - q_j) / U_jj) U[j, j+1:],
// where U is the upper Cholesky factor of H^-1 (inverse_cholesky_upper). As in the reference
// implementations the updates are applied lazily, here on two levels: eagerly within a sub-block of
// a few columns, with one GEMM for the rest of the block after each sub-block, and one GEMM for the
// rest of the matrix after each block (the "lazy batch" of GPTQ). That reorders the same updates;
// it changes nothing but rounding.
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
  // (a view, read-only) and d_block = diag(U)[i1:i2] [i2 - i1].
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
// U: [in, in] fp32 upper triangular with positive diagonal. Same device.
void obs_sweep(at::Tensor& Wt, const at::Tensor& U, ColumnRule& rule, SweepOptions opts = {});

}  // namespace repro
