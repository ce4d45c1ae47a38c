#pragma once
// The exact transposable N:M mask of each m x m block (see transposable.h): a maximum-score
// bipartite b-matching, found as a min-cost flow, and, for m <= 4, by enumerating every feasible
// block pattern (a test oracle).

#include <cstdint>

#include <ATen/core/Tensor.h>

namespace repro {

// The optimal mask of every block: keeps exactly n in each row and column and maximises the kept
// score. Min-cost flow per block (source -> row, capacity n; row i -> column j, capacity 1, cost
// max(A) - A[i, j] >= 0; column -> sink, capacity n) by successive shortest paths with node
// potentials and a dense Dijkstra that stops at the sink: n * m augmentations of O(m^2) each, in
// C++ (fp64 costs) on CPU, parallel over blocks (at::parallel_for). A: [B, m, m] fp32 on any device
// (copied to CPU when elsewhere), 0 <= n <= m. Returns bool [B, m, m] on A's device. Deterministic.
at::Tensor exact_transposable_blocks(const at::Tensor& A, int64_t n);

// Every m x m 0/1 pattern with exactly n ones in each row and column, as bool [K, m, m] on CPU in
// lexicographic order of the row-major bits (K = 90 for 2:4, 24 for 1:4). m <= 4.
at::Tensor transposable_patterns(int64_t n, int64_t m);

// The optimal mask of every block by enumeration: argmax over transposable_patterns(n, m) of the
// kept score (one batched matmul; ties go to the first pattern). A: [B, m, m] fp32, any device,
// m <= 4 (NotSupported otherwise). Returns bool [B, m, m] on A's device.
at::Tensor enumerate_transposable_blocks(const at::Tensor& A, int64_t n);

}  // namespace repro
