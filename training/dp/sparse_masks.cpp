#include "training/dp/sparse_masks.h"

#include <ATen/ATen.h>

#include <ATen/core/grad_mode.h>

#include <string>

#include "core/error.h"

namespace repro::dp {

namespace {

void check_density(double density) {
  if (!(density >= 0.0 && density <= 1.0))
    throw ConfigError("mask density " + std::to_string(density) + " is outside [0, 1]");
}

// bool [n]: false at the `removed` lowest scores (stable).
at::Tensor remove_lowest(const at::Tensor& scores, int64_t removed) {
  const at::Tensor order = std::get<1>(scores.sort(/*stable=*/true, /*dim=*/0, /*descending=*/false));
  at::Tensor keep = at::ones({scores.size(0)}, scores.options().dtype(at::kBool));
  if (removed > 0) keep.index_fill_(0, order.narrow(0, 0, removed), false);
  return keep;
}

}  // namespace

int64_t kept_count(int64_t count, double density) {
  check_density(density);
  return count - static_cast<int64_t>(static_cast<double>(count) * (1.0 - density));
}

at::Tensor keep_top_rows(const at::Tensor& scores, double density) {
  at::NoGradGuard no_grad;
  REPRO_ASSERT(scores.dim() == 1, "keep_top_rows: scores must be [rows]");
  return remove_lowest(scores, scores.size(0) - kept_count(scores.size(0), density));
}

at::Tensor sparta_row_scores(const at::Tensor& S) {
  at::NoGradGuard no_grad;
  REPRO_ASSERT(S.dim() >= 1, "sparta_row_scores: S must be [out, *]");
  const at::Tensor flat = S.to(at::kFloat).reshape({S.size(0), -1});
  return flat.sum(1).clamp_min(0.0);
}

at::Tensor expand_row_mask(const at::Tensor& rows, at::IntArrayRef shape) {
  REPRO_ASSERT(rows.dim() == 1 && !shape.empty() && rows.size(0) == shape[0], "expand_row_mask: shape mismatch");
  std::vector<int64_t> view(shape.size(), 1);
  view[0] = shape[0];
  return rows.view(view).expand(shape).contiguous();
}

at::Tensor magnitude_mask(const at::Tensor& W, double density, MaskGranularity granularity) {
  at::NoGradGuard no_grad;
  REPRO_ASSERT(W.dim() >= 1, "magnitude_mask: W must be [out, *]");
  check_density(density);
  if (granularity == MaskGranularity::kRows) {
    const at::Tensor norms = W.to(at::kFloat).reshape({W.size(0), -1}).norm(2, 1);
    return expand_row_mask(keep_top_rows(norms, density), W.sizes());
  }
  const at::Tensor flat = W.to(at::kFloat).abs().reshape({-1});
  const int64_t removed = flat.numel() - kept_count(flat.numel(), density);
  return remove_lowest(flat, removed).view(W.sizes());
}

}  // namespace repro::dp
