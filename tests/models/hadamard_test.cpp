#include "tests/catch.h"

#include <ATen/ATen.h>

#include "core/error.h"
#include "models/hadamard.h"
#include "tests/models/models_test_util.h"

using namespace repro;

TEST_CASE("hadamard: orthonormal +-1/sqrt(n) matrices that the fast transform applies", "[models][hadamard]") {
  for (int64_t n : {1, 2, 8, 32, 128, 12, 20, 24, 28, 40, 48, 384, 768}) {
    INFO("n = " << n);
    at::Tensor H = hadamard_matrix(n);
    REQUIRE(H.sizes() == at::IntArrayRef({n, n}));
    CHECK(at::allclose(at::matmul(H, H.t()), at::eye(n, H.options()), 0, 1e-12));
    CHECK(at::allclose(H.abs(), at::full_like(H, 1.0 / std::sqrt(static_cast<double>(n))), 0, 1e-12));
    at::manual_seed(n);
    at::Tensor x = at::randn({3, 5, n}, at::TensorOptions().dtype(at::kDouble));
    CHECK(at::allclose(hadamard_transform(x), at::matmul(x, H.t()), 0, 1e-12));
    // fp32 in, fp32 out, same values to fp32 rounding; norms kept.
    at::Tensor y = hadamard_transform(x.to(at::kFloat));
    CHECK(y.scalar_type() == at::kFloat);
    CHECK(at::allclose(y.to(at::kDouble), at::matmul(x, H.t()), 0, 1e-5));
    CHECK(at::allclose(y.norm(2, -1).to(at::kDouble), x.norm(2, -1), 1e-5, 0));
  }
}

TEST_CASE("hadamard: powers of two are Sylvester's matrix in natural order", "[models][hadamard]") {
  at::Tensor H = hadamard_matrix(16) * 4.0;
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 16; ++j) CHECK(H[i][j].item<double>() == Approx(__builtin_popcount(i & j) % 2 ? -1.0 : 1.0));
}

TEST_CASE("hadamard: the across-groups transform is H_G kron I_d", "[models][hadamard]") {
  const int64_t G = 4, d = 8;
  at::Tensor K = at::kron(hadamard_matrix(G), at::eye(d, at::TensorOptions().dtype(at::kDouble)));
  at::Tensor x = at::randn({2, 3, G * d}, at::TensorOptions().dtype(at::kDouble));
  CHECK(at::allclose(hadamard_transform_groups(x, d), at::matmul(x, K.t()), 0, 1e-12));
}

TEST_CASE("hadamard: model sizes that factor, and a clear error for those that do not", "[models][hadamard]") {
  // zoo:micro / zoo:tiny (384 = 12 * 32, 768 = 12 * 64), Llama-3-8B up (14336 = 28 * 512),
  // Qwen3-8B up (12288 = 12 * 1024).
  for (int64_t n : {128, 384, 256, 768, 4096, 14336, 12288}) CHECK(hadamard_supported(n));
  CHECK(hadamard_small_factor(384) == 12);
  CHECK(hadamard_small_factor(14336) == 28);
  // Llama-2-7B up (11008 = 172 * 64): QuaRot stores a Williamson-type H_172; not built here.
  CHECK_FALSE(hadamard_supported(11008));
  const std::string msg = test::error_of<NotSupported>([] { hadamard_transform(at::zeros({2, 11008}), "intermediate_size"); });
  CHECK_CONTAINS(msg, "11008");
  CHECK_CONTAINS(msg, "intermediate_size");
  CHECK_FALSE(hadamard_supported(3));
  CHECK_FALSE(hadamard_supported(0));
}
