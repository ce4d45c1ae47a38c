#include "methods/common/hessian.h"

#include <tuple>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/error.h"

namespace repro {

PreparedHessian prepare_hessian(const at::Tensor& H, const DampingOptions& opts, RunContext& ctx) {
  if (!H.defined() || H.dim() != 2 || H.size(0) != H.size(1))
    throw DataError(fmt::format("Hessian must be a square [in, in] matrix, got [{}]",
                                H.defined() ? fmt::format("{}", fmt::join(H.sizes(), ", ")) : "undefined"));
  PreparedHessian h;
  h.base = H.to(at::kFloat).clone();
  at::Tensor diag = h.base.diagonal();
  h.dead = diag.eq(0);
  // diag(H)_j == 0 -> H_jj = 1 (in place through the diagonal view).
  diag.masked_fill_(h.dead, 1.0);
  h.n_dead = h.dead.sum().item<int64_t>();
  if (h.n_dead) ctx.count("dead_inputs", h.n_dead);

  h.damping = at::full_like(diag, 0.0).add_(diag.mean().mul(opts.percdamp));
  if (opts.hess_diag) h.damping.add_(diag, opts.hess_percdamp);
  h.H = h.base.clone();
  h.H.diagonal().add_(h.damping);
  return h;
}

namespace {

// One factorization attempt per damping level; `factor` runs on h.H and returns (L, info).
template <class Factor>
at::Tensor with_retries(PreparedHessian& h, RunContext& ctx, const std::string& what, Factor factor) {
  for (int attempt = 0;; ++attempt) {
    std::tuple<at::Tensor, at::Tensor> r = factor(h.H);
    const at::Tensor& L = std::get<0>(r);
    const at::Tensor& info = std::get<1>(r);
    // One host sync per factorization (not per column): the only way to learn about failure.
    bool ok = info.item<int64_t>() == 0 && L.isfinite().all().item<bool>();
    if (ok) return L;
    if (attempt == kMaxCholeskyRetries)
      throw NumericalError(fmt::format(
          "Cholesky factorization of the Hessian of {} failed after {} retries with 10x more damping each "
          "(damping now {:.3g} x mean diag); the Hessian is not positive definite (NaN/Inf inputs?)",
          what, kMaxCholeskyRetries,
          (h.damping.mean() / h.base.diagonal().mean()).item<double>()));
    ctx.count("cholesky_retries");
    ctx.log().warn("Cholesky of the Hessian of {} failed; retrying with 10x damping", what);
    at::Tensor extra = h.damping * 9.0;  // damping -> 10 * damping
    h.damping.mul_(10.0);
    h.H.diagonal().add_(extra);
  }
}

}  // namespace

at::Tensor damped_cholesky(PreparedHessian& h, RunContext& ctx, const std::string& what) {
  return with_retries(h, ctx, what, [](const at::Tensor& H) { return at::linalg_cholesky_ex(H, false, false); });
}

at::Tensor reverse_cholesky_upper(PreparedHessian& h, RunContext& ctx, const std::string& what) {
  // P H P is H with the index order reversed; P L P is upper triangular when L is lower.
  at::Tensor Lr = with_retries(h, ctx, what, [](const at::Tensor& H) {
    return at::linalg_cholesky_ex(H.flip({0, 1}), false, false);
  });
  return Lr.flip({0, 1}).contiguous();
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
