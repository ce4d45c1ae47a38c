// The template plugin's spec test — copy it with the template.
#include "tests/catch.h"

#include "core/run_context.h"
#include "methods/api/layer_compressor.h"

using namespace repro;

TEST_CASE("_template_example: keeps the requested fraction per row and beats random on its own score",
          "[methods][template]") {
  at::manual_seed(0);
  at::Tensor W = at::randn({16, 32});
  at::Tensor X = at::randn({256, 32}) * at::linspace(0.1, 3.0, 32);
  LayerProblem p;
  p.W = W;
  p.H = at::matmul(X.t(), X) * (2.0 / 256);
  RunOptions o;
  o.log_level = "off";
  RunContext ctx(o);
  auto m = Registry<LayerCompressor>::instance().create("_template_example");
  m->configure(Params::validate(Value(Value::Table{{"keep", Value(0.25)}}), m->info().params, "compressor"));
  CompressedLinear c = m->compress(p, ctx);
  // Exactly 8 of 32 kept in every row.
  CHECK(at::equal(c.mask().sum(1), at::full({16}, 8, at::kLong)));
  // The forward from the compressed form equals x W_hat^T.
  CHECK(at::allclose(c.forward(X), at::matmul(X, c.dense().t()), 1e-4, 1e-5));
  // Its layer error is below that of a random mask with the same density.
  auto err = [&](const at::Tensor& What) {
    at::Tensor D = W - What;
    return at::trace(at::matmul(at::matmul(D, p.H), D.t())).item<double>();
  };
  at::Tensor rnd = at::rand({16, 32}).argsort(int64_t{1}).lt(8);
  CHECK(err(c.dense()) < err(W * rnd));
  // Bad parameters are a ConfigError.
  CHECK_THROWS_AS(m->configure(Params::validate(Value(Value::Table{{"keep", Value(1.5)}}), m->info().params, "c")),
                  ConfigError);
}
