#include "methods/common/nm_projection.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "methods/common/mask_solver.h"
#include "methods/common/topk.h"

namespace repro {

namespace {

// Z viewed as [outer, m, inner] (groups along the middle axis), contiguous fp32 on the CPU.
void nm_mask_cpu(const float* z, bool* mask, int64_t outer, int64_t m, int64_t inner, int64_t n) {
  at::parallel_for(0, outer, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> a(static_cast<size_t>(m));
    for (int64_t g = begin; g < end; ++g) {
      const float* zg = z + g * m * inner;
      bool* mg = mask + g * m * inner;
      for (int64_t j = 0; j < inner; ++j) {
        for (int64_t i = 0; i < m; ++i) a[i] = std::fabs(zg[i * inner + j]);
        for (int64_t i = 0; i < m; ++i) {
          // rank of entry i: how many beat it (strictly larger, or equal with a lower index).
          int64_t rank = 0;
          for (int64_t l = 0; l < m; ++l) rank += (a[l] > a[i]) || (a[l] == a[i] && l < i);
          mg[i * inner + j] = rank < n;
        }
      }
    }
  });
}

}  // namespace

at::Tensor nm_abs_mask(const at::Tensor& Z, NMPattern p, int64_t dim) {
  REPRO_ASSERT(Z.dim() == 2 && (dim == 0 || dim == 1), "nm_abs_mask: Z must be 2-D, dim 0 or 1");
  REPRO_ASSERT(p.m > 0 && p.n >= 0 && p.n <= p.m && Z.size(dim) % p.m == 0, "nm_abs_mask: size % m != 0");
  const int64_t rows = Z.size(0), cols = Z.size(1);
  // [outer, m, inner]: dim 0 -> [rows/m, m, cols]; dim 1 -> [rows * cols/m, m, 1].
  const int64_t outer = dim == 0 ? rows / p.m : rows * (cols / p.m);
  const int64_t inner = dim == 0 ? cols : 1;
  if (Z.is_cpu() && Z.scalar_type() == at::kFloat) {
    at::Tensor zc = Z.contiguous();
    at::Tensor mask = at::empty({rows, cols}, Z.options().dtype(at::kBool));
    nm_mask_cpu(zc.data_ptr<float>(), mask.data_ptr<bool>(), outer, p.m, inner, p.n);
    return mask;
  }
  at::Tensor a = Z.abs().reshape({outer, p.m, inner});
  at::Tensor rank = at::zeros(a.sizes(), Z.options().dtype(at::kInt));
  for (int64_t l = 0; l < p.m; ++l) {
    at::Tensor al = a.narrow(1, l, 1);
    at::Tensor beats = al.gt(a);
    // Equal with a lower index l < i also beats i.
    if (l + 1 < p.m) beats.narrow(1, l + 1, p.m - l - 1).logical_or_(al.eq(a.narrow(1, l + 1, p.m - l - 1)));
    rank.add_(beats);
  }
  return rank.lt(p.n).reshape({rows, cols});
}

bool uses_default_nm_solver(const SparsitySpec& spec) {
  return spec.pattern.nm && (!spec.solver || spec.solver->info().name == kDefaultMaskSolver);
}

at::Tensor scaled_support(const at::Tensor& Z, const SparsitySpec& spec, RunContext& ctx) {
  REPRO_ASSERT(Z.dim() == 2, "scaled_support: Z must be [in, out]");
  if (!spec.pattern.nm) return topk_mask(Z.abs(), keep_count(Z.numel(), spec.sparsity));
  if (uses_default_nm_solver(spec)) return nm_abs_mask(Z, spec.pattern.nm_pattern(), 0);
  // The Euclidean projection onto a support set keeps the support of largest sum of Z^2. Row-wise
  // top-N is the same on |Z| or Z^2; a transposable solver maximises a sum over rows AND columns of
  // each block, where the two differ (TSENOR, arXiv 2505.23949 §4: ALPS's projection step).
  at::Tensor scores = spec.transposable ? Z.t().square() : Z.t().abs();
  return select_mask(scores, spec, UnstructuredScope::Layer, ctx).t();
}

}  // namespace repro
