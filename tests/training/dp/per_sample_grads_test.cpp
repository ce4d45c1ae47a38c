// training/dp/per_sample_*: per-example gradients from one batched backward pass equal those of a
// loop with one backward per example, for every supported layer and for a small model; the
// helpers that convert and collect reject what they cannot serve.
#include "tests/catch.h"

#include <ATen/ATen.h>

#include <functional>

#include <torch/csrc/autograd/autograd.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/linear.h>

#include "core/error.h"
#include "training/dp/per_sample_layers.h"

using namespace repro;
using namespace repro::dp;

namespace {

using Forward = std::function<at::Tensor(const at::Tensor&)>;

// A per-example loss that is not linear in the output: l_b = sum(tanh(y_b) * r_b).
at::Tensor loss_of(const at::Tensor& y, const at::Tensor& r) { return (y.tanh() * r).sum(); }

// The reference: one forward and backward per example through the plain layer.
std::vector<at::Tensor> loop_grads(const Forward& f, const at::Tensor& x, const at::Tensor& r,
                                   const std::vector<at::Tensor>& params) {
  std::vector<std::vector<at::Tensor>> per(params.size());
  for (int64_t b = 0; b < x.size(0); ++b) {
    const at::Tensor loss = loss_of(f(x.narrow(0, b, 1)), r.narrow(0, b, 1));
    const auto g = torch::autograd::grad({loss}, params);
    for (size_t k = 0; k < params.size(); ++k) per[k].push_back(g[k]);
  }
  std::vector<at::Tensor> out;
  for (auto& v : per) out.push_back(at::stack(v));
  return out;
}

// max |a - b| <= 1e-5 * max(1, max |b|).
void check_close(const at::Tensor& a, const at::Tensor& b, const std::string& what) {
  INFO(what << ": shapes " << a.sizes() << " vs " << b.sizes());
  REQUIRE(a.sizes() == b.sizes());
  const double scale = std::max(1.0, b.abs().max().item<double>());
  const double err = (a - b).abs().max().item<double>();
  INFO("max abs error " << err << " (scale " << scale << ")");
  CHECK(err <= 1e-5 * scale);
}

// Batched per-example gradients of `layer` (a PerSample twin of `plain`, sharing its parameters)
// against the per-example loop through `plain`.
void check_layer(torch::nn::Module& layer, const Forward& batched, const Forward& plain, const at::Tensor& x) {
  at::Tensor y = batched(x);
  const at::Tensor r = at::randn(y.sizes());
  clear_grad_samples(layer);
  loss_of(y, r).backward();
  const auto got = collect_grad_samples(layer);
  std::vector<at::Tensor> params;
  for (const auto& g : got) params.push_back(g.param);
  REQUIRE(!params.empty());
  const auto want = loop_grads(plain, x, r, params);
  for (size_t k = 0; k < got.size(); ++k) {
    check_close(got[k].grad_sample, want[k], got[k].name);
    // The batched backward's .grad is the sum of the per-example gradients.
    check_close(got[k].grad_sample.sum(0), got[k].param.grad(), got[k].name + " sum");
  }
}

void randomize(torch::nn::Module& m) {
  at::NoGradGuard no_grad;
  for (auto& p : m.parameters()) p.normal_(0.0, 0.5);
}

}  // namespace

TEST_CASE("per-sample grads: Linear on [B, in] and on [B, T, in]", "[dp][per_sample]") {
  at::manual_seed(1);
  torch::nn::Linear plain(7, 4);
  PerSampleLinear twin(plain);
  CHECK(twin->weight.is_same(plain->weight));
  auto b = [&](const at::Tensor& x) { return twin->forward(x); };
  auto p = [&](const at::Tensor& x) { return plain->forward(x); };
  check_layer(*twin, b, p, at::randn({5, 7}));
  for (auto& q : twin->parameters()) q.mutable_grad() = at::Tensor();
  check_layer(*twin, b, p, at::randn({5, 3, 7}));  // tokens are summed per example

  torch::nn::Linear no_bias(torch::nn::LinearOptions(6, 3).bias(false));
  PerSampleLinear twin2(no_bias);
  check_layer(*twin2, [&](const at::Tensor& x) { return twin2->forward(x); },
              [&](const at::Tensor& x) { return no_bias->forward(x); }, at::randn({4, 2, 2, 6}));
}

TEST_CASE("per-sample grads: Conv2d with stride, padding, dilation and groups", "[dp][per_sample]") {
  at::manual_seed(2);
  struct Case {
    torch::nn::Conv2dOptions options;
    std::vector<int64_t> input;
  };
  const Case cases[] = {
      {torch::nn::Conv2dOptions(4, 6, 3).stride(2).padding(1).groups(2), {5, 4, 9, 8}},
      {torch::nn::Conv2dOptions(3, 4, {3, 2}).dilation({2, 1}).padding({2, 0}).bias(false), {3, 3, 8, 7}},
      {torch::nn::Conv2dOptions(4, 8, 1).groups(4), {2, 4, 5, 5}},
      {torch::nn::Conv2dOptions(2, 3, 3).padding(torch::kSame), {3, 2, 6, 6}},
  };
  int i = 0;
  for (const auto& c : cases) {
    INFO("case " << i++);
    torch::nn::Conv2d plain(c.options);
    PerSampleConv2d twin(plain);
    check_layer(*twin, [&](const at::Tensor& x) { return twin->forward(x); },
                [&](const at::Tensor& x) { return plain->forward(x); }, at::randn(c.input));
  }
  CHECK_THROWS_AS(PerSampleConv2d(torch::nn::Conv2dOptions(2, 2, 3).padding_mode(torch::kReflect)), NotSupported);
}

TEST_CASE("per-sample grads: GroupNorm with 2 groups and LayerNorm over two dims", "[dp][per_sample]") {
  at::manual_seed(3);
  torch::nn::GroupNorm gn(2, 6);
  randomize(*gn);
  PerSampleGroupNorm gn_twin(gn);
  check_layer(*gn_twin, [&](const at::Tensor& x) { return gn_twin->forward(x); },
              [&](const at::Tensor& x) { return gn->forward(x); }, at::randn({5, 6, 4, 3}) * 2 + 1);

  torch::nn::LayerNorm ln(torch::nn::LayerNormOptions({3, 4}));
  randomize(*ln);
  PerSampleLayerNorm ln_twin(ln);
  check_layer(*ln_twin, [&](const at::Tensor& x) { return ln_twin->forward(x); },
              [&](const at::Tensor& x) { return ln->forward(x); }, at::randn({5, 2, 3, 4}));
}

TEST_CASE("per-sample grads: Embedding with repeated indices and a padding index", "[dp][per_sample]") {
  at::manual_seed(4);
  torch::nn::Embedding plain(torch::nn::EmbeddingOptions(10, 4).padding_idx(0));
  PerSampleEmbedding twin(plain);
  const at::Tensor idx = at::tensor({3, 3, 0, 9, 1, 2, 2, 2, 5, 0, 7, 7, 0, 0, 4}, at::kLong).view({5, 3});
  check_layer(*twin, [&](const at::Tensor& x) { return twin->forward(x); },
              [&](const at::Tensor& x) { return plain->forward(x); }, idx);
  const LayerGradSample& gs = twin->grad_sample();
  CHECK(gs.weight.select(1, 0).abs().max().item<double>() == 0.0);  // the padding row has no gradient
  CHECK_THROWS_AS(PerSampleEmbedding(torch::nn::EmbeddingOptions(10, 4).max_norm(1.0)), NotSupported);
}

TEST_CASE("per-sample grads of a small conv net built by with_grad_samples", "[dp][per_sample]") {
  at::manual_seed(5);
  torch::nn::Sequential plain(torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 4, 3).stride(2).padding(1)),
                              torch::nn::GroupNorm(2, 4), torch::nn::ReLU(),
                              torch::nn::Conv2d(torch::nn::Conv2dOptions(4, 4, 3).padding(1).groups(2)),
                              torch::nn::Flatten(), torch::nn::Linear(4 * 4 * 4, 3));
  randomize(*plain);
  torch::nn::Sequential net = with_grad_samples(plain);
  REQUIRE(net->size() == plain->size());
  const at::Tensor x = at::randn({6, 1, 8, 8});
  check_layer(*net, [&](const at::Tensor& t) { return net->forward(t); },
              [&](const at::Tensor& t) { return plain->forward(t); }, x);
  const auto gs = collect_grad_samples(*net);
  REQUIRE(gs.size() == 8);
  CHECK(gs[0].name == "0.weight");
  CHECK(gs[7].name == "5.bias");

  // A mean loss: LossReduction::kMean undoes its 1/B.
  clear_grad_samples(*net);
  const at::Tensor y = net->forward(x);
  (y.square().sum() / x.size(0)).backward();
  const auto mean = collect_grad_samples(*net, LossReduction::kMean);
  clear_grad_samples(*net);
  net->forward(x).square().sum().backward();
  const auto sum = collect_grad_samples(*net);
  for (size_t k = 0; k < sum.size(); ++k) check_close(mean[k].grad_sample, sum[k].grad_sample, sum[k].name);

  // Two forwards before one backward add up, as gradients do.
  clear_grad_samples(*net);
  (net->forward(x).square().sum() + net->forward(x).square().sum()).backward();
  const auto twice = collect_grad_samples(*net);
  for (size_t k = 0; k < sum.size(); ++k) check_close(twice[k].grad_sample, 2 * sum[k].grad_sample, sum[k].name);
}

TEST_CASE("per-sample helpers reject layers without per-example gradients", "[dp][per_sample]") {
  torch::nn::Sequential with_bn(torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 2, 3)), torch::nn::BatchNorm2d(2));
  CHECK_THROWS_AS(with_grad_samples(with_bn), NotSupported);
  // A frozen BatchNorm is kept (it has no trainable parameter)...
  for (auto& p : with_bn[1]->parameters()) p.set_requires_grad(false);
  CHECK(with_grad_samples(with_bn)->size() == 2);

  // ... and a trainable parameter outside the PerSample layers is an error when collecting.
  struct Mixed : torch::nn::Module {
    Mixed() {
      a = register_module("a", PerSampleLinear(3, 2));
      b = register_module("b", torch::nn::Linear(2, 1));
    }
    PerSampleLinear a{nullptr};
    torch::nn::Linear b{nullptr};
  };
  auto m = std::make_shared<Mixed>();
  m->b->forward(m->a->forward(at::randn({4, 3}))).sum().backward();
  CHECK_THROWS_AS(collect_grad_samples(*m), NotSupported);
  clear_grad_samples(*m);
  CHECK_THROWS_AS(collect_grad_samples(*m), Error);
}

TEST_CASE("per-sample grads survive an in-place op on the layer's output", "[dp][per_sample]") {
  // The output hook must see dL/d(output before the in-place op); the hook semantics of autograd
  // guarantee it, and this pins it for every libtorch version the project builds with.
  at::manual_seed(6);
  torch::nn::Linear plain(3, 4);
  PerSampleLinear twin(plain);
  check_layer(*twin, [&](const at::Tensor& x) { return twin->forward(x).relu_(); },
              [&](const at::Tensor& x) { return plain->forward(x).relu_(); }, at::randn({6, 3}));
}

TEST_CASE("GradSampleHooksOff: plain training records no per-example gradients, and hooks return after it",
          "[dp][per_sample][dp_accuracy]") {
  PerSampleLinear lin(4, 3);
  const at::Tensor x = at::randn({5, 4});
  {
    GradSampleHooksOff off;
    CHECK(GradSampleHooksOff::active());
    lin->forward(x).sum().backward();
  }
  CHECK_FALSE(GradSampleHooksOff::active());
  CHECK_FALSE(lin->grad_sample().weight.defined());
  CHECK(lin->weight.grad().defined());  // the ordinary gradient is still there
  lin->forward(x).sum().backward();
  REQUIRE(lin->grad_sample().weight.defined());
  CHECK(lin->grad_sample().weight.size(0) == 5);
}
