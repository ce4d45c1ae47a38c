#pragma once
// Top-k masks and sparsity projections (the conventions of mazumder-lab/ALPS and mazumder-lab/3BASiL). Scores: higher = keep.
// All functions take tensors on any device and return a bool mask of the scores' shape there.

#include <cstdint>

#include <ATen/core/Tensor.h>

#include "methods/api/mask_solver.h"

namespace repro {

// Entries kept at sparsity p of numel entries: round((1 - p) * numel).
int64_t keep_count(int64_t numel, double sparsity);

// Keeps the k largest scores of the whole tensor (one threshold per layer). scores: any shape.
at::Tensor topk_mask(const at::Tensor& scores, int64_t k);

// The k-th smallest value (1-based, 1 <= k <= numel) of x (any shape, fp32), as a 0-dim tensor on
// x's device: at::kthvalue of the flattened tensor. On CPU an exact two-pass radix select on the
// float bit patterns (NaN counts as the largest, as in kthvalue), a few times faster.
at::Tensor kth_smallest(const at::Tensor& x, int64_t k);

// Keeps the k largest scores of every row. scores: [rows, cols], 0 <= k <= cols.
at::Tensor row_topk_mask(const at::Tensor& scores, int64_t k);

// Keeps the n largest scores in every group of m consecutive columns of a row.
// scores: [rows, cols] with cols % m == 0. Ties go by topk order.
at::Tensor nm_topk_mask(const at::Tensor& scores, NMPattern pattern);

// Kept entries of every group of m consecutive columns: mask [rows, cols] -> [rows, cols/m] int64.
at::Tensor nm_group_counts(const at::Tensor& mask, int64_t m);

// True when every group of m consecutive columns of every row keeps exactly (or at most) n.
bool satisfies_nm(const at::Tensor& mask, NMPattern pattern, bool exact = true);

// True when every m x m block of mask (blocks aligned at multiples of m in both dimensions) keeps
// exactly n entries in each of its rows and each of its columns: a transposable N:M mask.
// mask: [rows, cols] (any dtype, nonzero = kept), any device; false when rows or cols % m != 0.
bool satisfies_transposable_nm(const at::Tensor& mask, NMPattern pattern);

// Z with all but the k largest-|.| entries of the whole matrix zeroed.
at::Tensor topk_project(const at::Tensor& Z, int64_t k);
// Z with the m - n smallest-|.| entries of every group of m consecutive columns zeroed. Z: [rows, cols].
at::Tensor nm_project(const at::Tensor& Z, NMPattern pattern);

}  // namespace repro
