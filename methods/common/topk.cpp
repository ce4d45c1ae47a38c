#include "methods/common/topk.h"

#include <cmath>

#include "core/error.h"

namespace repro {

int64_t keep_count(int64_t numel, double sparsity) {
  return static_cast<int64_t>(std::llround((1.0 - sparsity) * static_cast<double>(numel)));
}

at::Tensor topk_mask(const at::Tensor& scores, int64_t k) {
  const int64_t numel = scores.numel();
  at::Tensor flat = scores.reshape({-1});
  at::Tensor mask = at::zeros({numel}, scores.options().dtype(at::kBool));
  if (k >= numel) return mask.fill_(true).view(scores.sizes());
  if (k <= 0) return mask.view(scores.sizes());
  // Keep the smaller side through topk (it sorts only k elements).
  if (k <= numel / 2) {
    at::Tensor idx = std::get<1>(at::topk(flat, k, 0, /*largest=*/true, /*sorted=*/false));
    mask.index_fill_(0, idx, true);
  } else {
    at::Tensor idx = std::get<1>(at::topk(flat, numel - k, 0, /*largest=*/false, /*sorted=*/false));
    mask.fill_(true).index_fill_(0, idx, false);
  }
  return mask.view(scores.sizes());
}

at::Tensor row_topk_mask(const at::Tensor& scores, int64_t k) {
  REPRO_ASSERT(scores.dim() == 2 && k >= 0 && k <= scores.size(1), "row_topk_mask: bad k or shape");
  at::Tensor mask = at::zeros(scores.sizes(), scores.options().dtype(at::kBool));
  if (k == scores.size(1)) return mask.fill_(true);
  if (k == 0) return mask;
  const int64_t cols = scores.size(1);
  if (k <= cols / 2) {
    at::Tensor idx = std::get<1>(at::topk(scores, k, 1, true, false));
    mask.scatter_(1, idx, true);
  } else {
    at::Tensor idx = std::get<1>(at::topk(scores, cols - k, 1, false, false));
    mask.fill_(true).scatter_(1, idx, false);
  }
  return mask;
}

at::Tensor nm_topk_mask(const at::Tensor& scores, NMPattern p) {
  REPRO_ASSERT(scores.dim() == 2 && p.m > 0 && p.n >= 0 && p.n <= p.m && scores.size(1) % p.m == 0,
               "nm_topk_mask: columns must be a multiple of m");
  const int64_t rows = scores.size(0), groups = scores.size(1) / p.m;
  at::Tensor g = scores.reshape({rows, groups, p.m});
  at::Tensor mask = at::zeros(g.sizes(), scores.options().dtype(at::kBool));
  if (p.n > 0) {
    at::Tensor idx = std::get<1>(at::topk(g, p.n, 2, true, false));
    mask.scatter_(2, idx, true);
  }
  return mask.view(scores.sizes());
}

at::Tensor nm_group_counts(const at::Tensor& mask, int64_t m) {
  REPRO_ASSERT(mask.dim() == 2 && mask.size(1) % m == 0, "nm_group_counts: columns must be a multiple of m");
  return mask.reshape({mask.size(0), mask.size(1) / m, m}).sum(2, /*keepdim=*/false, at::kLong);
}

bool satisfies_nm(const at::Tensor& mask, NMPattern p, bool exact) {
  if (mask.dim() != 2 || mask.size(1) % p.m != 0) return false;
  at::Tensor c = nm_group_counts(mask.to(at::kBool), p.m);
  return exact ? c.eq(p.n).all().item<bool>() : c.le(p.n).all().item<bool>();
}

at::Tensor topk_project(const at::Tensor& Z, int64_t k) { return Z * topk_mask(Z.abs(), k); }

at::Tensor nm_project(const at::Tensor& Z, NMPattern p) { return Z * nm_topk_mask(Z.abs(), p); }

}  // namespace repro
