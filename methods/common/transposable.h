#pragma once
// Transposable N:M masks: the steps the transposable MaskSolvers share (methods/tsenor,
// methods/greedy_transposable, methods/exact_transposable).
//
// A transposable N:M mask keeps exactly n entries in every row and every column of each m x m
// block of the matrix (blocks aligned at multiples of m in both dimensions), so the mask and its
// transpose are both N:M. Blocks are independent: the solvers work on a batch of blocks
// [B, m, m] and maximise each block's kept score. The LP relaxation (0 <= S <= 1, row and column
// sums n) is a capacitated transport problem whose optimum is integral (a bipartite b-matching);
// the exact optimum is in methods/common/transposable_flow.h.
//
// Every function takes tensors on any device and returns its result there, unless it says
// otherwise. Score blocks are fp32; masks are bool.

#include <cstdint>
#include <functional>

#include <ATen/core/Tensor.h>

#include "methods/api/mask_solver.h"

namespace repro {

// The frame of every transposable solver: checks that both dimensions of scores are multiples of
// m (NotSupported naming the shape otherwise) and that the scores are finite (NumericalError),
// converts them to fp32 blocks, calls solve_blocks (A [B, m, m] fp32 -> bool [B, m, m], same
// device) unless the answer is trivial (n == 0 or n == m), and returns the mask [rows, cols] bool
// on scores' device. scores: [rows, cols], any device.
at::Tensor solve_by_blocks(const at::Tensor& scores, NMPattern pattern,
                           const std::function<at::Tensor(const at::Tensor& A)>& solve_blocks);

// x: [rows, cols] with rows % m == cols % m == 0, any dtype -> [B, m, m], B = (rows/m) (cols/m),
// block b = (block row r, block column c) at b = r * (cols/m) + c; the rows of a block are rows
// of x. A contiguous copy.
at::Tensor to_blocks(const at::Tensor& x, int64_t m);
// The inverse of to_blocks: blocks [B, m, m] -> [rows, cols] (contiguous).
at::Tensor from_blocks(const at::Tensor& blocks, int64_t rows, int64_t cols);

// The kept score of every block: sum of A over the mask. A: [B, m, m] fp32, mask: [B, m, m] bool,
// same device. Returns [B] fp64.
at::Tensor block_objective(const at::Tensor& A, const at::Tensor& mask);

// Whether each block keeps exactly n in each of its rows and columns. mask: [B, m, m] bool -> [B] bool.
at::Tensor block_feasible(const at::Tensor& mask, int64_t n);

// Scores mapped per block to [-1, 0]: (A - max_b) / (max_b - min_b); a constant block maps to 0.
// A shift or a positive scale of a block changes neither its optimal mask nor its entropic
// solution up to the temperature, and exp(tau * x) of the result lies in [exp(-tau), 1]: no
// overflow, and no underflow to 0 for tau <= 80, in fp32. A: [B, m, m] fp32 -> [B, m, m] fp32 (new).
at::Tensor normalize_blocks(const at::Tensor& A);

struct DykstraOptions {
  double tau = 60.0;         // inverse temperature on the normalised scores, in (0, 80] (tsenor's default)
  int64_t iters = 100;       // at most this many iterations
  double tol = 0.0;          // stop once max |row sum - n|, |column sum - n| < tol (0: never early)
  int64_t check_every = 10;  // how often (in iterations) the early stop is checked
  // false: on CPU fp32 a fused C++ loop per block (parallel over blocks, each block cache-resident);
  // elsewhere batched tensor ops. true: the batched tensor ops anywhere (tests compare the two).
  bool batched_tensor = false;
};

struct DykstraResult {
  at::Tensor S;                // [B, m, m] fp32 in [0, 1], row and column sums close to n
  int64_t iterations = 0;      // iterations run (the most of any block)
  double mean_iterations = 0;  // per block, on average (the CPU path stops each block on its own)
};

// TSENOR's entropy-regularised relaxation, solved by Dykstra's algorithm in its scaling form on
// all blocks at once:
//   S = exp(tau * normalize_blocks(A)); Q = 1;
//   repeat: S *= n / rowsum(S); S *= n / colsum(S); P = S * Q; S = min(P, 1); Q = P / S (= max(P, 1)).
// The batched path checks the early stop over the whole batch; the CPU path stops each block on
// its own. A: [B, m, m] fp32 (raw scores, higher = keep); 0 < n <= m.
DykstraResult dykstra_transposable(const at::Tensor& A, int64_t n, const DykstraOptions& opts = {});

// Greedy rounding: per block, visits the entries in descending priority (ties by descending A,
// then by ascending index i * m + j) and keeps (i, j) while row i and column j keep fewer than n.
// The result keeps at most n per row and column (a maximal b-matching), usually exactly n.
// priority, A: [B, m, m] fp32, same device -> bool [B, m, m]. batched_tensor = false: on CPU a C++
// loop parallel over blocks; elsewhere (or when true) m^2 batched tensor steps. Both give the same mask.
at::Tensor greedy_round(const at::Tensor& priority, const at::Tensor& A, int64_t n, bool batched_tensor = false);

// Local search repair of masks keeping at most n per row and column. Each step, in every block that
// needs it: if a row i and a column j both keep fewer than n and mask[i, j] == 0, keep the best
// such (i, j); otherwise take the first deficient row i and column j and apply the swap (i', j')
// maximising A[i, j'] + A[i', j] - A[i', j'] over mask[i', j'] = 1, mask[i, j'] = 0,
// mask[i', j] = 0: keep (i, j') and (i', j), drop (i', j'). Either move lowers the block's deficit
// by one. At most max_steps steps; a block with neither move stops (infeasible).
// A: [B, m, m] fp32; mask: [B, m, m] bool, contiguous, same device, changed in place. Returns [B]
// bool: the blocks still infeasible (a block that keeps more than n somewhere is never repaired).
// batched_tensor = false: on CPU a C++ loop parallel over blocks; elsewhere (or when true) batched
// tensor steps on the blocks that need them. Both give the same masks.
at::Tensor repair_transposable(const at::Tensor& A, at::Tensor& mask, int64_t n, int64_t max_steps,
                               bool batched_tensor = false);

// repair_transposable, then the exact solver (transposable_flow.h) for every block still
// infeasible. A, mask as there; mask becomes feasible. Returns the number of blocks solved exactly.
int64_t finish_transposable(const at::Tensor& A, at::Tensor& mask, int64_t n, int64_t max_steps,
                            bool batched_tensor = false);

}  // namespace repro
