#include "methods/common/topk.h"

#include <ATen/ATen.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/error.h"

namespace repro {

int64_t keep_count(int64_t numel, double sparsity) {
  return static_cast<int64_t>(std::llround((1.0 - sparsity) * static_cast<double>(numel)));
}

namespace {

// Order-preserving map of a float's bits to uint32 (negative floats reversed, -0 < +0, NaN last).
inline uint32_t sortable_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  if (std::isnan(f)) return 0xFFFFFFFFu;
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

float from_sortable_bits(uint32_t key, const float* data, int64_t n) {
  // Return an actual element with this key (keeps -0/+0 and NaN payloads exact).
  for (int64_t i = 0; i < n; ++i)
    if (sortable_bits(data[i]) == key) return data[i];
  return std::numeric_limits<float>::quiet_NaN();
}

float radix_select(const float* data, int64_t n, int64_t k) {
  // Pass 1: histogram of the high 16 bits; pass 2: of the low 16 bits within the chosen bucket.
  std::vector<int64_t> hist(1 << 16, 0);
  for (int64_t i = 0; i < n; ++i) ++hist[sortable_bits(data[i]) >> 16];
  int64_t rank = k;  // 1-based rank within the remaining candidates
  uint32_t hi = 0;
  for (; hi < (1u << 16); ++hi) {
    if (rank <= hist[hi]) break;
    rank -= hist[hi];
  }
  std::fill(hist.begin(), hist.end(), 0);
  for (int64_t i = 0; i < n; ++i) {
    uint32_t key = sortable_bits(data[i]);
    if ((key >> 16) == hi) ++hist[key & 0xFFFFu];
  }
  uint32_t lo = 0;
  for (; lo < (1u << 16); ++lo) {
    if (rank <= hist[lo]) break;
    rank -= hist[lo];
  }
  return from_sortable_bits((hi << 16) | lo, data, n);
}

}  // namespace

at::Tensor kth_smallest(const at::Tensor& x, int64_t k) {
  REPRO_ASSERT(k >= 1 && k <= x.numel(), "kth_smallest: k out of range");
  if (x.is_cpu() && x.scalar_type() == at::kFloat) {
    at::Tensor c = x.contiguous();
    return at::scalar_tensor(radix_select(c.data_ptr<float>(), c.numel(), k), x.options());
  }
  return std::get<0>(at::kthvalue(x.reshape({-1}), k));
}

at::Tensor topk_mask(const at::Tensor& scores, int64_t k) {
  const int64_t numel = scores.numel();
  at::Tensor flat = scores.reshape({-1});
  if (k >= numel) return at::ones(scores.sizes(), scores.options().dtype(at::kBool));
  if (k <= 0) return at::zeros(scores.sizes(), scores.options().dtype(at::kBool));
  if (flat.is_cpu() && flat.scalar_type() == at::kFloat) {
    // Threshold by radix select (a few passes, no sort), then break ties at the threshold by index
    // order: exactly k kept, deterministic.
    at::Tensor t = kth_smallest(flat, numel - k + 1);  // the k-th largest
    at::Tensor mask = flat.gt(t);
    const int64_t need = k - mask.sum().item<int64_t>();
    if (need > 0) {
      at::Tensor ties = flat.eq(t).nonzero().squeeze(1).narrow(0, 0, need);
      mask.index_fill_(0, ties, true);
    }
    return mask.view(scores.sizes());
  }
  at::Tensor mask = at::zeros({numel}, scores.options().dtype(at::kBool));
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

bool satisfies_transposable_nm(const at::Tensor& mask, NMPattern p) {
  if (mask.dim() != 2 || p.m <= 0 || mask.size(0) % p.m != 0 || mask.size(1) % p.m != 0) return false;
  // [R/m, m (row in block), C/m, m (column in block)]
  at::Tensor b = mask.to(at::kBool).reshape({mask.size(0) / p.m, p.m, mask.size(1) / p.m, p.m});
  return b.sum(3, /*keepdim=*/false, at::kInt).eq(p.n).all().item<bool>() &&
         b.sum(1, /*keepdim=*/false, at::kInt).eq(p.n).all().item<bool>();
}

at::Tensor topk_project(const at::Tensor& Z, int64_t k) { return Z * topk_mask(Z.abs(), k); }

at::Tensor nm_project(const at::Tensor& Z, NMPattern p) { return Z * nm_topk_mask(Z.abs(), p); }

}  // namespace repro
