// The fast N:M projection and the rank-r SVD that the ADMM / alternating S+LR solvers call every
// iteration (methods/common/nm_projection.h, rank_r_svd.h).
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/ATen.h>

#include "methods/common/layer_error.h"
#include "methods/common/low_rank.h"
#include "methods/common/nm_projection.h"
#include "methods/common/rank_r_svd.h"
#include "methods/common/topk.h"
#include "tests/catch.h"
#include "tests/methods/method_test_util.h"

using namespace repro;

TEST_CASE("nm_abs_mask equals the per-group top-N along either axis, on CPU fp32 and the tensor path",
          "[methods][fastproj]") {
  at::manual_seed(3);
  for (NMPattern p : {NMPattern{2, 4}, NMPattern{4, 8}, NMPattern{1, 4}, NMPattern{3, 8}}) {
    at::Tensor Z = at::randn({64, 48});  // rows and cols both multiples of 8
    at::Tensor ref1 = nm_topk_mask(Z.abs(), p);
    at::Tensor ref0 = nm_topk_mask(Z.t().abs(), p).t();
    CHECK(at::equal(nm_abs_mask(Z, p, 1), ref1));
    CHECK(at::equal(nm_abs_mask(Z, p, 0), ref0));
    // The generic path (any device / dtype): fp64 here.
    CHECK(at::equal(nm_abs_mask(Z.to(at::kDouble), p, 1), ref1));
    CHECK(at::equal(nm_abs_mask(Z.to(at::kDouble), p, 0), ref0));
    CHECK(satisfies_nm(nm_abs_mask(Z, p, 0).t(), p, true));
  }
  // Ties keep exactly N (the lower index first).
  at::Tensor T = at::ones({8, 8});
  at::Tensor m = nm_abs_mask(T, {2, 4}, 1);
  CHECK(satisfies_nm(m, {2, 4}, true));
  CHECK(m[0][0].item<bool>());
  CHECK(m[0][1].item<bool>());
  CHECK(at::equal(nm_abs_mask(T.to(at::kDouble), {2, 4}, 1), m));
}

namespace {
// A [rows, cols] matrix with r singular values in [10, 20] and the rest below `tail`.
at::Tensor gapped(int64_t rows, int64_t cols, int64_t r, double tail, uint64_t seed) {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(seed);
  int64_t k = std::min(rows, cols);
  at::Tensor U = std::get<0>(at::linalg_qr(at::randn({rows, k}, g, at::kFloat), "reduced"));
  at::Tensor V = std::get<0>(at::linalg_qr(at::randn({cols, k}, g, at::kFloat), "reduced"));
  at::Tensor s = at::rand({k}, g, at::kFloat).mul_(tail);
  s.narrow(0, 0, r).copy_(at::linspace(20, 10, r));
  return at::matmul(U * s.unsqueeze(0), V.t());
}
double subspace_gap(const at::Tensor& A, const at::Tensor& B) {  // ||P_A - P_B||_2, columns orthonormal
  at::Tensor PA = at::matmul(A, A.t()), PB = at::matmul(B, B.t());
  return at::linalg_matrix_norm(PA - PB, 2).item<double>();
}
}  // namespace

TEST_CASE("RankRSvd: the exact subspace on gapped matrices, cold and warm-started", "[methods][fastproj]") {
  for (uint64_t seed : {1, 2, 3}) {
    at::Tensor M = gapped(96, 128, 8, 1.0, seed);
    RankRSvd fast(8, SvdMode::RankR, at::make_generator<at::CPUGeneratorImpl>(seed));
    TruncatedSvd ex = truncated_svd(M, 8), rr = fast(M);
    CHECK(subspace_gap(ex.U, rr.U) < 1e-3);
    CHECK(subspace_gap(ex.Vh.t(), rr.Vh.t()) < 1e-3);
    CHECK(at::allclose(rr.S, ex.S, 1e-4, 1e-3));
    // A small move of the matrix: the warm start (one power step) still finds the new subspace.
    at::Generator g = at::make_generator<at::CPUGeneratorImpl>(seed + 10);
    for (int step = 0; step < 5; ++step) {
      M = M + 0.05 * at::randn(M.sizes(), g, at::kFloat);
      TruncatedSvd e2 = truncated_svd(M, 8), r2 = fast(M);
      CHECK(subspace_gap(e2.U, r2.U) < 1e-2);
      CHECK(at::allclose(r2.S, e2.S, 1e-3, 1e-2));
    }
  }
  // exact mode is the truncated SVD itself.
  at::Tensor M = gapped(40, 30, 4, 1.0, 9);
  RankRSvd ex(4, SvdMode::Exact, at::make_generator<at::CPUGeneratorImpl>(0));
  CHECK(at::allclose(ex(M).S, truncated_svd(M, 4).S));
}

TEST_CASE("weighted_low_rank with the rank-r SVD: the same layer objective within 1%", "[methods][fastproj]") {
  for (uint64_t seed : {1, 2, 3}) {
    auto f = test::make_layer(64, 128, seed);
    at::Tensor H = f.H + at::eye(128) * 0.01 * f.H.diagonal().mean();
    HessianEigen eig = hessian_eigen(H);
    RankRSvd fast(8, SvdMode::RankR, at::make_generator<at::CPUGeneratorImpl>(seed));
    const double le = layer_loss(f.W, weighted_low_rank(f.W, eig, 8).product(), H);
    const double lr = layer_loss(f.W, weighted_low_rank(f.W, eig, fast).product(), H);
    INFO("seed " << seed << " exact " << le << " rank_r " << lr);
    CHECK(lr >= le * (1 - 1e-4));
    CHECK(lr <= le * 1.01);
  }
}
