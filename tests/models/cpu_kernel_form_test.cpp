// A compressed Linear on the CPU kernels (models/cpu_kernel_form.h) equals the torch path
// (CompressedLinear::forward) and the reconstructed dense product, takes the torch path where the
// kernels do not apply, and follows in-place changes of the layer's tensors (the packed copy is
// rebuilt).

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <memory>

#include "models/compressed_linear.h"
#include "models/cpu_kernel_form.h"
#include "models/linear.h"
#include "tests/catch.h"

using namespace repro;

namespace {

QuantCodes random_codes(int64_t out, int64_t in, int bits, int64_t group, at::Generator& g) {
  QuantCodes q;
  q.bits = bits;
  q.group_size = group;
  const int64_t ng = (in + group - 1) / group;
  q.codes = at::randint(0, int64_t{1} << bits, {out, in}, g, at::kByte);
  q.scales = (at::rand({out, ng}, g) + 0.5) * 0.05;
  q.zeros = at::randint(0, int64_t{1} << bits, {out, ng}, g, at::kFloat);
  return q;
}

at::Tensor mask24(int64_t out, int64_t in, at::Generator& g) {
  return at::rand({out, in / 4, 4}, g).argsort().lt(2).reshape({out, in}).contiguous();
}

Linear linear_of(const CompressedLinear& c, at::Tensor bias = at::Tensor()) {
  Linear l;
  l.compressed = std::make_shared<CompressedLinear>(c);
  l.bias = bias;
  return l;
}

// Linear::forward (kernels) against CompressedLinear::forward (torch) and x W_hat^T.
void check_paths_agree(const Linear& l, const at::Tensor& x) {
  REQUIRE(uses_cpu_kernels(l.compressed, x));
  at::Tensor yk = l.forward(x);
  at::Tensor yt = l.compressed->forward(x);
  if (l.bias.defined()) yt = yt + l.bias;
  at::Tensor w = l.compressed->dense();
  at::Tensor yd = at::matmul(x, w.t());
  if (l.bias.defined()) yd = yd + l.bias;
  REQUIRE(yk.sizes() == yt.sizes());
  const double scale = at::matmul(x.abs(), w.abs().t()).max().item<double>();
  CHECK((yk - yt).abs().max().item<double>() <= 1e-5 * scale);
  CHECK((yk - yd).abs().max().item<double>() <= 1e-5 * scale);
}

}  // namespace

TEST_CASE("cpu kernels: a compressed Linear equals the torch path for codes, 2:4 and 2:4 + low rank",
          "[models][compressed][kernels]") {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(5);
  at::Tensor x = at::randn({2, 3, 256}, g);  // [..., in]: 6 rows
  for (int bits : {2, 3, 4})
    for (int64_t group : {int64_t{128}, int64_t{-1}, int64_t{32}}) {
      CompressedLinear c;
      c.set_quant(random_codes(40, 256, bits, group > 0 ? group : 256, g));
      INFO("bits " << bits << " group " << group);
      check_paths_agree(linear_of(c), x);
      c.set_low_rank(at::randn({40, 8}, g) * 0.1, at::randn({8, 256}, g) * 0.1);
      check_paths_agree(linear_of(c, at::randn({40}, g)), x);
    }
  CompressedLinear s;
  s.set_sparse(at::randn({40, 256}, g), mask24(40, 256, g));
  s.set_pattern(2, 4);
  check_paths_agree(linear_of(s), x);
  check_paths_agree(linear_of(s), x[0][1]);  // a single 1-D input row
  s.set_low_rank(at::randn({40, 16}, g) * 0.1, at::randn({16, 256}, g) * 0.1);
  check_paths_agree(linear_of(s), x);
}

TEST_CASE("cpu kernels: formats and inputs the kernels do not take run the torch path",
          "[models][compressed][kernels]") {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(6);
  CompressedLinear q;
  q.set_quant(random_codes(16, 128, 4, 64, g));
  auto qp = std::make_shared<const CompressedLinear>(q);
  CHECK_FALSE(uses_cpu_kernels(qp, at::randn({3, 128}, g).to(at::kDouble)));  // not fp32
  CHECK_FALSE(uses_cpu_kernels(qp, at::randn({kCpuKernelMaxRows + 1, 128}, g)));  // a long prefill
  CHECK_FALSE(uses_cpu_kernels(qp, at::randn({3, 128}, g).requires_grad_(true)));  // autograd through x
  CHECK(uses_cpu_kernels(qp, at::randn({kCpuKernelMaxRows, 128}, g)));
  set_cpu_kernels_enabled(false);
  CHECK_FALSE(uses_cpu_kernels(qp, at::randn({3, 128}, g)));
  set_cpu_kernels_enabled(true);

  // Unstructured sparsity (three of four kept in a group) is not 2:4: the torch path, same result.
  at::Tensor m = mask24(16, 128, g);
  m[0][0] = true, m[0][1] = true, m[0][2] = true;
  CompressedLinear u;
  u.set_sparse(at::randn({16, 128}, g), m);
  at::Tensor x = at::randn({3, 128}, g);
  Linear lu = linear_of(u);
  CHECK_FALSE(uses_cpu_kernels(lu.compressed, x));
  CHECK(at::allclose(lu.forward(x), at::matmul(x, u.dense().t()), 1e-5, 1e-5));

  // A dense layer, and codes with act-order group indices, stay on torch.
  CHECK_FALSE(uses_cpu_kernels(std::make_shared<const CompressedLinear>(
                                   CompressedLinear::from_dense(at::randn({16, 128}, g))), x));
  QuantCodes qi = random_codes(16, 128, 4, 64, g);
  qi.g_idx = at::randperm(128, at::kLong).div(64, "floor");
  CompressedLinear gi;
  gi.set_quant(qi);
  CHECK_FALSE(uses_cpu_kernels(std::make_shared<const CompressedLinear>(gi), x));
}

TEST_CASE("cpu kernels: the packed copy follows in-place changes of scales and values (regression)",
          "[models][compressed][kernels]") {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(7);
  at::Tensor x = at::randn({4, 128}, g);
  CompressedLinear q;
  q.set_quant(random_codes(24, 128, 4, 128, g));
  Linear lq = linear_of(q);
  at::Tensor before = lq.forward(x);
  lq.compressed->quant().scales.mul_(2.0);  // a refiner stepping the scales in place
  at::Tensor after = lq.forward(x);
  CHECK(at::allclose(after, 2 * before, 1e-5, 1e-5));
  CHECK(at::allclose(after, at::matmul(x, lq.compressed->dense().t()), 1e-4, 1e-5));

  CompressedLinear s;
  s.set_sparse(at::randn({24, 128}, g), mask24(24, 128, g));
  Linear ls = linear_of(s);
  at::Tensor y0 = ls.forward(x);
  ls.compressed->sparse_values().mul_(-1.0);
  CHECK(at::allclose(ls.forward(x), -y0, 1e-5, 1e-5));

  // A layer replaced by a clone gets its own packed copy: zeroing the old one's values changes
  // nothing for the clone.
  Linear lc = linear_of(ls.compressed->clone());
  ls.compressed->sparse_values().zero_();
  CHECK(at::allclose(lc.forward(x), -y0, 1e-5, 1e-5));
  CHECK(at::allclose(ls.forward(x), at::zeros_like(y0)));
}

TEST_CASE("cpu kernels: a dense Linear at decode sizes runs the dense kernel and equals at::linear",
          "[models][cpu_kernels]") {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(7);
  Linear l;
  l.weight = at::randn({37, 70}, g);
  l.bias = at::randn({37}, g);
  const double scale_w = l.weight.abs().sum(1).max().item<double>();
  for (int64_t rows : {int64_t{1}, int64_t{3}, kCpuKernelMaxRows}) {
    INFO("rows " << rows);
    at::Tensor x = at::randn({1, rows, 70}, g);
    at::Tensor yk = cpu_dense_forward(l.weight, x);
    REQUIRE(yk.defined());
    REQUIRE(yk.sizes() == at::IntArrayRef({1, rows, 37}));
    at::Tensor yt = at::linear(x, l.weight, l.bias);
    at::Tensor y = l.forward(x);
    const double bound = 1e-5 * scale_w * x.abs().max().item<double>();
    CHECK((y - yt).abs().max().item<double>() <= bound);
    CHECK((yk + l.bias - yt).abs().max().item<double>() <= bound);
  }
  // Where it does not apply: too many rows, another dtype, a strided weight, a gradient to track.
  CHECK_FALSE(cpu_dense_forward(l.weight, at::randn({kCpuKernelMaxRows + 1, 70}, g)).defined());
  CHECK_FALSE(cpu_dense_forward(l.weight, at::randn({2, 70}, g).to(at::kDouble)).defined());
  CHECK_FALSE(cpu_dense_forward(at::randn({70, 37}, g).t(), at::randn({2, 70}, g)).defined());
  at::Tensor w = l.weight.clone().requires_grad_(true);
  CHECK_FALSE(cpu_dense_forward(w, at::randn({2, 70}, g)).defined());
  {
    at::NoGradGuard no_grad;
    CHECK(cpu_dense_forward(w, at::randn({2, 70}, g)).defined());
  }
  set_cpu_kernels_enabled(false);
  CHECK_FALSE(cpu_dense_forward(l.weight, at::randn({2, 70}, g)).defined());
  set_cpu_kernels_enabled(true);
}
