#pragma once
// Update masks for private sparse fine-tuning: SPARTA's row selection from its private releases
// (Makni et al., arXiv 2503.12822; official code mazumder-lab/SPARTA,
// src/opacus_per_sample/optimizer_per_sample.py: get_optimization_method_mask, method
// "row_pruning_noisy_grads") and the public magnitude masks of its "mp_weights" baseline
// (src/utils/train_utils.py: layerwise_magnitude_pruning).
//
// Masks are bool tensors of the weight's shape, true where the coordinate may train. "density" is
// what the code's --sparsity flag means: the fraction kept. The code removes the
// int(count * (1 - density)) lowest-scoring rows (or entries) of each layer and keeps the rest.

#include <cstdint>

#include <ATen/core/Tensor.h>

namespace repro::dp {

// count - int(count * (1 - density)), density in [0, 1]: how many rows (entries) the code keeps.
int64_t kept_count(int64_t count, double density);

// scores: [rows] -> bool [rows], false for the int(rows (1 - density)) lowest scores. Ties go in
// index order (a stable sort: the lower index is removed first); torch.argsort in the code is not
// stable, so it may break exact ties differently.
at::Tensor keep_top_rows(const at::Tensor& scores, double density);

// SPARTA's row score of a weight's accumulated releases S: [out, *] -> [out] fp32,
// max(0, sum over the row of S).
at::Tensor sparta_row_scores(const at::Tensor& S);

// rows: bool [out] -> bool of `shape` ([out, *]), each row's value broadcast along the row.
at::Tensor expand_row_mask(const at::Tensor& rows, at::IntArrayRef shape);

// Public magnitude masks of a pretrained weight W: [out, *] -> bool of W's shape.
//   rows: keep the rows with the largest L2 norm, int(out (1 - density)) removed;
//   elements: SPARTA's mp_weights, keep the entries with the largest |W| in the whole layer,
//             int(numel (1 - density)) removed (unstructured).
enum class MaskGranularity { kRows, kElements };
at::Tensor magnitude_mask(const at::Tensor& W, double density, MaskGranularity granularity);

}  // namespace repro::dp
