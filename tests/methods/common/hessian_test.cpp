#include "methods/common/hessian.h"

#include <ATen/ATen.h>

#include "core/error.h"
#include "tests/catch.h"
#include "tests/methods/method_test_util.h"

using namespace repro;

namespace {
RunContext make_ctx() {
  RunOptions o;
  o.progress = false;
  o.log_level = "off";
  return RunContext(o);
}
}  // namespace

TEST_CASE("prepare_hessian repairs dead inputs and damps relative to mean(diag H)", "[methods][hessian]") {
  test::FixtureOptions fo;
  fo.n_dead = 3;
  auto f = test::make_layer(8, 64, 1, fo);
  RunContext ctx = make_ctx();
  DampingOptions d;
  d.percdamp = 0.01;
  PreparedHessian h = prepare_hessian(f.H, d, ctx);
  CHECK(h.n_dead == 3);
  CHECK(ctx.counter("dead_inputs") == 3);
  CHECK(h.dead.sum().item<int64_t>() == 3);
  at::Tensor diag = f.H.diagonal().clone();
  diag.masked_fill_(h.dead, 1.0);
  const double damp = 0.01 * diag.mean().item<double>();
  CHECK(at::allclose(h.H.diagonal(), diag + damp));
  CHECK(at::allclose(h.diag, diag));
  // Off-diagonal entries are untouched.
  at::Tensor off = 1 - at::eye(64);
  CHECK(at::equal(h.H * off, f.H * off));
  CHECK(f.H.diagonal().masked_select(h.dead).eq(0).all().item<bool>());  // input not modified

  d.hess_diag = true;
  d.hess_percdamp = 0.005;
  PreparedHessian h2 = prepare_hessian(f.H, d, ctx);
  CHECK(at::allclose(h2.H.diagonal(), diag * 1.005 + damp));
  CHECK_THROWS_AS(prepare_hessian(at::zeros({3, 4}), d, ctx), DataError);
}

TEST_CASE("inverse_cholesky_upper equals GPTQ's chol -> cholesky_inverse -> chol", "[methods][hessian]") {
  auto f = test::make_layer(8, 96, 2);
  RunContext ctx = make_ctx();
  PreparedHessian h = prepare_hessian(f.H, {}, ctx);
  at::Tensor Hd = h.H.clone();
  at::Tensor ref = reference_inverse_cholesky_upper(Hd);
  at::Tensor U = inverse_cholesky_upper(h, ctx);
  CHECK_FALSE(h.H.defined());  // consumed
  CHECK(at::equal(U, U.triu()));
  CHECK((U.diagonal() > 0).all().item<bool>());
  CHECK(at::allclose(U, ref, 1e-3, 1e-4 * ref.abs().max().item<double>()));
  // U^T U H = I
  at::Tensor I = at::matmul(at::matmul(U.t(), U).to(at::kDouble), Hd.to(at::kDouble));
  CHECK(at::allclose(I, at::eye(96, at::kDouble), 1e-3, 1e-3));
  // The reverse factor: H = R R^T, R upper, R^{-1} = U.
  at::Tensor R = reverse_cholesky_upper(h, ctx);  // rebuilds H from the source
  CHECK(at::equal(R, R.triu()));
  CHECK(at::allclose(at::matmul(R, R.t()), Hd, 1e-4, 1e-4 * Hd.abs().max().item<double>()));
  CHECK(at::allclose(at::matmul(R, U), at::eye(96), 1e-3, 1e-3));
  // And the lower factor (rebuilt H, kept).
  at::Tensor L = damped_cholesky(h, ctx);
  CHECK(at::allclose(h.H, Hd));
  CHECK(at::allclose(at::matmul(L, L.t()), Hd, 1e-4, 1e-4 * Hd.abs().max().item<double>()));
  // Act-order permutation.
  at::Tensor perm = at::randperm(96, at::kLong);
  permute_hessian(h, perm);
  CHECK(at::allclose(h.H, Hd.index_select(0, perm).index_select(1, perm)));
  CHECK(ctx.counter("cholesky_retries") == 0);
}

TEST_CASE("damped_cholesky retries an indefinite H with 10x damping and counts it", "[methods][hessian]") {
  // H = Q diag(lam) Q^T with one eigenvalue at -0.5 * mean(diag): damping 0.01 and 0.1 fail, 1.0 works.
  at::manual_seed(3);
  const int64_t n = 32;
  at::Tensor Q = std::get<0>(at::linalg_qr(at::randn({n, n}, at::kDouble)));
  at::Tensor lam = at::linspace(1.0, 2.0, n, at::kDouble);
  lam[0] = -0.5 * lam.sum().item<double>() / (n - 1) * 1.0;
  at::Tensor H = at::matmul(Q * lam.unsqueeze(0), Q.t()).to(at::kFloat);
  const double mean_diag = H.diagonal().mean().item<double>();
  REQUIRE(-lam[0].item<double>() > 0.1 * mean_diag);
  REQUIRE(-lam[0].item<double>() < 1.0 * mean_diag);
  RunContext ctx = make_ctx();
  PreparedHessian h = prepare_hessian(H, {}, ctx);
  at::Tensor L = damped_cholesky(h, ctx);
  CHECK(ctx.counter("cholesky_retries") == 2);
  CHECK(at::allclose(h.damping, at::full({n}, mean_diag, at::kFloat), 1e-4));
  CHECK(at::allclose(at::matmul(L, L.t()), h.H, 1e-4, 1e-4));
  // The reverse factor goes through the same retry path (rebuilding the consumed H).
  PreparedHessian h2 = prepare_hessian(H, {}, ctx);
  at::Tensor R = reverse_cholesky_upper(h2, ctx);
  CHECK(ctx.counter("cholesky_retries") == 4);
  CHECK(at::allclose(at::matmul(R, R.t()), h.H, 1e-4, 1e-4));
}

TEST_CASE("damped_cholesky gives up with NumericalError on a hopeless H", "[methods][hessian]") {
  RunContext ctx = make_ctx();
  at::Tensor H = at::eye(8);
  H[2][3] = std::numeric_limits<float>::quiet_NaN();
  H[3][2] = std::numeric_limits<float>::quiet_NaN();
  PreparedHessian h = prepare_hessian(H, {}, ctx);
  CHECK_THROWS_AS(damped_cholesky(h, ctx), NumericalError);
  CHECK(ctx.counter("cholesky_retries") == kMaxCholeskyRetries);
}

TEST_CASE("reverse_cholesky_upper on a large H (the blocked CPU factorization) and its retry", "[methods][hessian]") {
  auto f = test::make_layer(4, 1100, 8, {});  // n >= 1024 takes the blocked path; 1100 = 4 * 256 + 76
  RunContext ctx = make_ctx();
  PreparedHessian h = prepare_hessian(f.H, {}, ctx);
  at::Tensor Hd = h.H.to(at::kDouble);
  at::Tensor R = reverse_cholesky_upper(h, ctx);
  CHECK(at::equal(R, R.triu()));
  at::Tensor RRt = at::matmul(R.to(at::kDouble), R.t().to(at::kDouble));
  CHECK(((RRt - Hd).abs().max() / Hd.abs().max()).item<double>() < 1e-5);
  // Indefinite: one negative direction, as in the small retry test.
  at::Tensor v = at::randn({1100, 1}, at::kDouble);
  v /= v.norm();
  at::Tensor Hbad = (Hd - at::matmul(v, v.t()) * (2.0 * Hd.diagonal().mean().item<double>() +
                                                    at::matmul(at::matmul(v.t(), Hd), v).item<double>()))
                        .to(at::kFloat);
  PreparedHessian hb = prepare_hessian(Hbad, {}, ctx);
  at::Tensor Rb = reverse_cholesky_upper(hb, ctx);
  CHECK(ctx.counter("cholesky_retries") >= 1);
  at::Tensor Hb = Hbad.to(at::kDouble);
  Hb.diagonal().add_(hb.damping.to(at::kDouble));
  CHECK(((at::matmul(Rb.to(at::kDouble), Rb.t().to(at::kDouble)) - Hb).abs().max() / Hb.abs().max()).item<double>() <
        1e-5);
}
