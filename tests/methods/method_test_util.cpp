#include "tests/methods/method_test_util.h"

#include <ATen/ATen.h>

#include <ATen/CPUGeneratorImpl.h>

#include "core/params.h"
#include "methods/common/layer_error.h"

namespace repro::test {

LayerProblem LayerFixture::problem() const {
  LayerProblem p;
  p.name = "synthetic";
  p.W = W;
  p.H = H;
  p.n_samples = X.size(0);
  return p;
}

LayerFixture make_layer(int64_t out, int64_t in, uint64_t seed, const FixtureOptions& o) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const int64_t n = o.n_tokens > 0 ? o.n_tokens : 4 * in;
  at::Tensor k = at::arange(1, in + 1, at::kFloat);
  at::Tensor A = at::randn({in, in}, gen, at::kFloat).div_(std::sqrt(static_cast<double>(in)));
  A.mul_(k.pow(-o.decay).unsqueeze(1));
  at::Tensor X = at::matmul(at::randn({n, in}, gen, at::kFloat), A);
  // Per-channel scales and a few outlier channels.
  at::Tensor chan = at::rand({in}, gen, at::kFloat).mul_(1.5).add_(0.25);
  at::Tensor perm = at::randperm(in, gen, at::kLong);
  for (int64_t i = 0; i < o.n_outliers && i < in; ++i) chan[perm[i].item<int64_t>()] = 20.0;
  X.mul_(chan.unsqueeze(0));
  for (int64_t i = 0; i < o.n_dead; ++i) X.select(1, (i * 7 + 3) % in).zero_();

  at::Tensor W = at::randn({out, in}, gen, at::kFloat).mul_(0.05);
  W.mul_(at::rand({out, 1}, gen, at::kFloat).mul_(2.0).add_(0.5));
  at::Tensor big = at::rand({out, in}, gen, at::kFloat).lt(0.005);
  W = at::where(big, W * 6.0, W);

  LayerFixture f;
  f.W = W.contiguous();
  f.X = X.contiguous();
  f.H = at::matmul(X.t(), X).mul_(2.0 / static_cast<double>(n)).contiguous();
  return f;
}

std::unique_ptr<LayerCompressor> make_compressor(const std::string& name, const Value::Table& params) {
  auto c = Registry<LayerCompressor>::instance().create(name);
  c->configure(Params::validate(Value(params), c->info().params, "test '" + name + "'"));
  return c;
}

CompressedLinear compress(const std::string& name, const Value::Table& params, const LayerFixture& f,
                          RunContext& ctx) {
  return make_compressor(name, params)->compress(f.problem(), ctx);
}

double rel_error(const LayerFixture& f, const CompressedLinear& c) { return relative_error(f.W, c.dense(), f.H); }

double forward_mismatch(const CompressedLinear& c, uint64_t seed) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::Tensor x = at::randn({5, 3, c.in_features()}, gen, at::kFloat);
  at::Tensor ref = at::matmul(x, c.dense().t());
  at::Tensor y = c.forward(x);
  return (y - ref).abs().max().item<double>() / std::max(1e-30, ref.abs().max().item<double>());
}

PlantedSlr planted_slr(int64_t out, int64_t in, int64_t keep, int64_t r, uint64_t seed) {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::Tensor idx = at::rand({out, in}, g, at::kFloat).argsort(int64_t{1}).narrow(1, 0, keep);
  at::Tensor mask = at::zeros({out, in}, at::kBool).scatter_(1, idx, true);
  at::Tensor vals = at::randn({out, in}, g, at::kFloat).sign().mul_(at::rand({out, in}, g, at::kFloat).add_(1.0));
  PlantedSlr p;
  p.S0 = vals * mask;
  p.L0 = at::matmul(at::randn({out, r}, g, at::kFloat), at::randn({r, in}, g, at::kFloat)).mul_(0.1);
  p.f.W = p.S0 + p.L0;
  p.f.X = at::eye(in);
  p.f.H = at::eye(in);
  return p;
}

}  // namespace repro::test
