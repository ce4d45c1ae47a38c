#include "methods/common/hessian.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <tuple>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/error.h"
#include "methods/common/intra_op.h"
#include "methods/common/large_buffer.h"

namespace repro {

std::vector<ParamSpec> damping_params(bool hess_diag, double default_percdamp) {
  std::vector<ParamSpec> out{
      param_float("percdamp", default_percdamp, "damping: percdamp * mean(diag H) added to the diagonal").at_least(0)};
  if (hess_diag) {
    out.push_back(param_bool("hess_diag", false, "also add hess_percdamp * diag(H) (the 3BASiL runs)"));
    out.push_back(
        param_float("hess_percdamp", 0.015, "relative diagonal damping when hess_diag is on").at_least(0));
  }
  return out;
}

DampingOptions read_damping(const Params& params) {
  DampingOptions d;
  d.percdamp = params.get_float("percdamp");
  if (params.has("hess_diag")) d.hess_diag = params.get_bool("hess_diag");
  if (params.has("hess_percdamp")) d.hess_percdamp = params.get_float("hess_percdamp");
  return d;
}

namespace {

// Reverses both dimensions of a square matrix (P M P) in place: for a contiguous matrix that is
// the reversal of its buffer.
void reverse_inplace(at::Tensor& M) {
  if (M.is_cpu() && M.is_contiguous() && M.scalar_type() == at::kFloat) {
    float* p = M.data_ptr<float>();
    std::reverse(p, p + M.numel());
  } else {
    M = M.flip({0, 1}).contiguous();
  }
}

// H_source[order][:, order] (reversed: in reverse order) with the diagonal diag + damping, as a new
// fp32 matrix: the one full copy of H.
at::Tensor gather(const PreparedHessian& h, bool reversed) {
  const at::Tensor src = h.source.to(at::kFloat);
  at::Tensor M = empty_large(src.sizes(), src.options());
  if (h.order.defined())
    at::index_select_out(M, src.index_select(0, h.order), 1, h.order);
  else
    M.copy_(src);
  if (reversed) reverse_inplace(M);
  at::Tensor d = h.diag + h.damping;
  M.diagonal().copy_(reversed ? d.flip(0) : d);
  return M;
}

// Right-looking blocked Cholesky of the row-major symmetric M in place: afterwards M's lower
// triangle is L (M = L L^T) and its strict upper triangle is zero. The trailing updates are GEMMs
// on the lower block columns only (n^3 / 3 flops); on CPU this runs about twice as fast as
// OpenBLAS's spotrf, which ATen calls. Returns false when a diagonal block is not positive definite.
bool blocked_cholesky_lower(at::Tensor& M, int64_t nb) {
  const int64_t n = M.size(0);
  for (int64_t k = 0; k < n; k += nb) {
    const int64_t kb = std::min(nb, n - k);
    at::Tensor A11 = M.narrow(0, k, kb).narrow(1, k, kb);
    auto [L11, info] = at::linalg_cholesky_ex(A11, false, false);
    if (info.item<int64_t>() != 0) return false;
    A11.copy_(L11);
    const int64_t r = n - k - kb;
    if (r == 0) break;
    at::Tensor A21 = M.narrow(0, k + kb, r).narrow(1, k, kb);
    A21.copy_(at::linalg_solve_triangular(L11.t(), A21, /*upper=*/true, /*left=*/false));  // A21 L11^{-T}
    for (int64_t j = k + kb; j < n; j += nb) {
      const int64_t jb = std::min(nb, n - j);
      M.narrow(0, j, n - j)
          .narrow(1, j, jb)
          .addmm_(A21.narrow(0, j - k - kb, n - j), A21.narrow(0, j - k - kb, jb).t(), 1, -1);
    }
  }
  M.tril_();
  return true;
}

// Where cholesky_inplace left the lower factor L of M = L L^T.
enum class Factor { Failed, InM, InMt };

// Cholesky factorization of the symmetric M [n, n] in M's own memory: afterwards L is M (row-major
// lower) or M.t() (M holds L^T when ATen factored it).
Factor cholesky_inplace(at::Tensor& M) {
  constexpr int64_t kBlock = 256;
  Factor where = Factor::InM;
  if (M.is_cpu() && M.scalar_type() == at::kFloat && M.is_contiguous() && M.size(0) >= 4 * kBlock) {
    if (!blocked_cholesky_lower(M, kBlock)) return Factor::Failed;
  } else {
    // LAPACK works on column-major matrices; the transposed view of a row-major symmetric matrix is
    // one, so ATen factors it in place instead of through a column-major temporary.
    at::Tensor info = at::empty({}, M.options().dtype(at::kInt));
    at::Tensor Mt = M.t();
    try {
      at::linalg_cholesky_ex_out(Mt, info, Mt, /*upper=*/false, /*check_errors=*/false);
      if (Mt.data_ptr() != M.data_ptr()) M.copy_(Mt.t());
    } catch (const c10::Error&) {
      // An ATen that refuses aliased outputs: factor out of place.
      auto [L2, inf] = at::linalg_cholesky_ex(M, false, false);
      M.copy_(L2.t());
      info = inf;
    }
    // One host sync per factorization (not per column): the only way to learn about failure.
    if (info.item<int64_t>() != 0) return Factor::Failed;
    where = Factor::InMt;
  }
  // LAPACK reports NaN pivots too, and a NaN or Inf anywhere in H reaches a later pivot; the
  // diagonal check guards the ATen fallback (and costs nothing, unlike a full isfinite pass).
  return M.diagonal().isfinite().all().item<bool>() ? where : Factor::Failed;
}

[[noreturn]] void give_up(const PreparedHessian& h, const std::string& what) {
  throw NumericalError(fmt::format(
      "Cholesky factorization of the Hessian of {} failed after {} retries with 10x more damping each "
      "(damping now {:.3g} x mean diag); the Hessian is not positive definite (NaN/Inf inputs?)",
      what, kMaxCholeskyRetries, (h.damping.mean() / h.diag.mean()).item<double>()));
}

void raise_damping(PreparedHessian& h, RunContext& ctx, const std::string& what) {
  ctx.count("cholesky_retries");
  ctx.log().warn("Cholesky of the Hessian of {} failed; retrying with 10x damping", what);
  h.damping.mul_(10.0);
}

}  // namespace

PreparedHessian prepare_hessian(const at::Tensor& H, const DampingOptions& opts, RunContext& ctx) {
  if (!H.defined() || H.dim() != 2 || H.size(0) != H.size(1))
    throw DataError(fmt::format("Hessian must be a square [in, in] matrix, got [{}]",
                                H.defined() ? fmt::format("{}", fmt::join(H.sizes(), ", ")) : "undefined"));
  PreparedHessian h;
  h.source = H;
  at::Tensor diag = H.diagonal().to(at::kFloat);
  h.dead = diag.eq(0);
  h.diag = diag.masked_fill(h.dead, 1.0);  // diag(H)_j == 0 -> H_jj = 1
  h.n_dead = h.dead.sum().item<int64_t>();
  if (h.n_dead) ctx.count("dead_inputs", h.n_dead);
  h.damping = at::zeros_like(h.diag).add_(h.diag.mean().mul(opts.percdamp));
  if (opts.hess_diag) h.damping.add_(h.diag, opts.hess_percdamp);
  h.H = gather(h, /*reversed=*/false);
  return h;
}

void permute_hessian(PreparedHessian& h, const at::Tensor& perm) {
  h.order = h.order.defined() ? h.order.index_select(0, perm) : perm;
  h.diag = h.diag.index_select(0, perm);
  h.damping = h.damping.index_select(0, perm);
  h.dead = h.dead.index_select(0, perm);
  h.H = at::Tensor();  // free the old copy first
  h.H = gather(h, /*reversed=*/false);
}

at::Tensor damped_cholesky(PreparedHessian& h, RunContext& ctx, const std::string& what) {
  if (!h.H.defined()) h.H = gather(h, false);
  for (int attempt = 0;; ++attempt) {
    auto [L, info] = at::linalg_cholesky_ex(h.H, false, false);
    if (info.item<int64_t>() == 0 && L.diagonal().isfinite().all().item<bool>()) return L;
    if (attempt == kMaxCholeskyRetries) give_up(h, what);
    at::Tensor extra = h.damping * 9.0;  // damping -> 10 * damping
    raise_damping(h, ctx, what);
    h.H.diagonal().add_(extra);
  }
}

at::Tensor reverse_cholesky_upper(PreparedHessian& h, RunContext& ctx, const std::string& what) {
  SerialIntraOp serial(h.source.is_cpu());  // see intra_op.h
  // P H P is H with the index order reversed; P L P is upper triangular when L is lower.
  at::Tensor M;
  if (h.H.defined()) {
    M = std::move(h.H);
    h.H = at::Tensor();
    reverse_inplace(M);
  } else {
    M = gather(h, /*reversed=*/true);
  }
  Factor where = Factor::Failed;
  for (int attempt = 0;; ++attempt) {
    where = cholesky_inplace(M);
    if (where != Factor::Failed) break;
    if (attempt == kMaxCholeskyRetries) give_up(h, what);
    raise_damping(h, ctx, what);
    M = at::Tensor();
    M = gather(h, /*reversed=*/true);
  }
  // Reversing the buffer turns L into P L P = R in the same view.
  reverse_inplace(M);
  return where == Factor::InM ? M : M.t();
}

at::Tensor inverse_cholesky_upper(PreparedHessian& h, RunContext& ctx, const std::string& what) {
  at::Tensor R = reverse_cholesky_upper(h, ctx, what);
  at::Tensor eye = at::eye(R.size(0), R.options());
  return at::linalg_solve_triangular(R, eye, /*upper=*/true).triu_().contiguous();
}

at::Tensor reference_inverse_cholesky_upper(const at::Tensor& H_damped) {
  at::Tensor L = at::linalg_cholesky(H_damped);
  at::Tensor Hinv = at::cholesky_inverse(L);
  return at::linalg_cholesky(Hinv, /*upper=*/true);
}

}  // namespace repro
