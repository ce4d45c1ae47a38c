#include "methods/common/layer_error.h"
#include <ATen/ATen.h>
#include "methods/common/low_rank.h"

#include "tests/catch.h"
#include "tests/methods/method_test_util.h"

using namespace repro;

TEST_CASE("relative_error: 0 for the same matrix, 1 for zero", "[methods][lowrank]") {
  auto f = test::make_layer(16, 64, 1);
  CHECK(relative_error(f.W, f.W, f.H) == 0.0);
  CHECK(relative_error(f.W, at::zeros_like(f.W), f.H) == Approx(1.0));
  at::Tensor E = f.W * 0.1;
  // || X E^T ||_F^2 with H = (2/n) X^T X
  double direct = at::matmul(f.X, E.t()).square().sum().item<double>() * 2.0 / f.X.size(0);
  CHECK(layer_loss(f.W, f.W - E, f.H) == Approx(direct).epsilon(1e-4));
}

TEST_CASE("truncated_svd recovers a rank-r matrix; balanced factors", "[methods][lowrank]") {
  at::manual_seed(1);
  at::Tensor M = at::matmul(at::randn({40, 5}), at::randn({5, 30}));
  TruncatedSvd s = truncated_svd(M, 5);
  LowRankFactors f = balanced_factors(s);
  CHECK(f.B.sizes() == at::IntArrayRef({40, 5}));
  CHECK(f.A.sizes() == at::IntArrayRef({5, 30}));
  CHECK(at::allclose(f.product(), M, 1e-4, 1e-4));
  // Balanced: B^T B == A A^T == diag(S)
  CHECK(at::allclose(at::matmul(f.B.t(), f.B), at::matmul(f.A, f.A.t()), 1e-3, 1e-3));
}

TEST_CASE("weighted_low_rank is the H-weighted optimum (beats the plain SVD under H)", "[methods][lowrank]") {
  auto fx = test::make_layer(48, 64, 2);
  at::Tensor H = fx.H + at::eye(64) * 0.01 * fx.H.diagonal().mean();
  HessianEigen eig = hessian_eigen(H);
  for (int64_t r : {1, 4, 16}) {
    LowRankFactors w = weighted_low_rank(fx.W, eig, r);
    LowRankFactors p = balanced_factors(truncated_svd(fx.W, r));
    double lw = layer_loss(fx.W, w.product(), H), lp = layer_loss(fx.W, p.product(), H);
    CHECK(lw < lp);
    // A perturbation of the optimum does not improve it.
    LowRankFactors q{w.B * 1.01, w.A};
    CHECK(lw <= layer_loss(fx.W, q.product(), H));
  }
  // With H = I it is the plain truncated SVD.
  HessianEigen id = hessian_eigen(at::eye(64));
  CHECK(at::allclose(weighted_low_rank(fx.W, id, 8).product(), balanced_factors(truncated_svd(fx.W, 8)).product(),
                     1e-3, 1e-5));
}
