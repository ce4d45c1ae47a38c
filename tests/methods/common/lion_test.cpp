#include <ATen/ATen.h>

#include "methods/common/lion.h"
#include "tests/catch.h"

using namespace repro;

namespace {
bool close(const at::Tensor& a, std::vector<float> b) {
  return at::allclose(a, at::tensor(b), /*rtol=*/0, /*atol=*/1e-6);
}
}  // namespace

// Two steps computed by hand from Lion's update (arXiv 2302.06675, Alg. 2) with decoupled weight
// decay first, as lion-pytorch. The second gradient is chosen so that swapping beta1 and beta2
// flips the sign of the first coordinate's update, and the third coordinate has g = 0 (sign 0).
TEST_CASE("Lion: two hand-computed steps with weight decay", "[methods][lion]") {
  at::Tensor p = at::tensor(std::vector<float>{1.0f, -2.0f, 0.5f});
  Lion lion({p}, LionOptions{.lr = 0.1, .beta1 = 0.9, .beta2 = 0.95, .weight_decay = 0.5});
  // Step 1: m = 0, c = 0.1 g = [0.03, -0.01, 0] -> sign [1, -1, 0]; p = 0.95 p - 0.1 sign(c).
  lion.step({at::tensor(std::vector<float>{0.3f, -0.1f, 0.0f})});
  CHECK(close(p, {0.85f, -1.8f, 0.475f}));
  CHECK(close(lion.momentum(0), {0.015f, -0.005f, 0.0f}));  // m = 0.05 g
  // Step 2: c = 0.9 m + 0.1 g = [-0.0065, -0.0145, 0.04] -> sign [-1, -1, 1].
  lion.step({at::tensor(std::vector<float>{-0.2f, -0.1f, 0.4f})});
  CHECK(close(p, {0.9075f, -1.61f, 0.35125f}));
  CHECK(close(lion.momentum(0), {0.01425f - 0.01f, -0.00475f - 0.005f, 0.02f}));  // 0.95 m + 0.05 g
  CHECK(lion.steps() == 2);
}

TEST_CASE("Lion: autograd gradients are consumed and zeroed; no decay without weight_decay", "[methods][lion]") {
  at::Tensor p = at::tensor(std::vector<float>{2.0f, -3.0f}).requires_grad_(true);
  Lion lion({p}, LionOptions{.lr = 0.25});
  (p * at::tensor(std::vector<float>{1.0f, -4.0f})).sum().backward();
  lion.step();
  CHECK(close(p.detach(), {1.75f, -2.75f}));
  CHECK(p.grad().abs().sum().item<double>() == 0.0);
}
