// The layer_error suite on a layer a user brings: W and H from one .safetensors file. The suite's
// objective must equal tr((W - W_hat) H (W - W_hat)^T) computed here from W, H and the compressed
// weight it saved; a Hessian that is not [in, in] or not symmetric fails the row with a DataError.
#include "tests/catch.h"

#include <ATen/ATen.h>

#include "core/config.h"
#include "core/driver.h"
#include "core/table_spec.h"
#include "models/safetensors.h"
#include "tests/test_util.h"

using namespace repro;

namespace {

struct Layer {
  at::Tensor W;  // [8, 16]
  at::Tensor H;  // [16, 16] = (2/64) X^T X
};

Layer make_layer() {
  at::Generator gen = at::detail::createCPUGenerator(7);
  at::Tensor X = at::randn({64, 16}, gen, at::kFloat);
  X.select(1, 3).mul_(10.0);  // one outlier channel, so H is far from the identity
  Layer l;
  l.W = at::randn({8, 16}, gen, at::kFloat);
  l.H = at::matmul(X.t(), X) * (2.0 / 64.0);
  l.H = (l.H + l.H.t()) * 0.5;
  return l;
}

// Magnitude 2:4 by hand: the two largest |w| of each group of four consecutive inputs survive.
at::Tensor magnitude_2_4(const at::Tensor& W) {
  at::Tensor g = W.reshape({W.size(0), -1, 4});
  at::Tensor keep = at::zeros_like(g, at::kBool).scatter_(2, std::get<1>(g.abs().topk(2, 2)), true);
  return (g * keep).reshape(W.sizes());
}

double trace_objective(const at::Tensor& W, const at::Tensor& W_hat, const at::Tensor& H) {
  at::Tensor D = (W - W_hat).to(at::kDouble);
  return (at::matmul(D, H.to(at::kDouble)) * D).sum().item<double>();
}

std::string table_for(const std::string& file, const std::string& hessian, const std::string& save_to) {
  return R"(
[table]
title = "micro layer from a file"
suite = "layer_error"
metrics = ["objective", "rel_error"]

[suite]
layer = "safetensors"
file = ")" + file + R"("
tensor = "W"
hessian_tensor = ")" + hessian + R"("

[[rows]]
label = "Dense"

[[rows]]
label = "Magnitude 2:4"
compressor = { method = "magnitude", pattern = "2:4" }
save_to = ")" + save_to + R"("
)";
}

std::vector<Record> run_table(const std::string& text, const test::TempDir& dir, DriverSummary* summary = nullptr) {
  RunOptions o;
  o.progress = false;
  o.log_level = "off";
  RunContext ctx(o);
  auto table = TableSpec::parse(parse_toml(text, "layer.toml"), "test/layer_file", {});
  ResultStore store(dir / "runs");
  TableDriver driver(table, store, ctx);
  DriverSummary s = driver.run({});
  if (summary) *summary = s;
  return store.list("test/layer_file");
}

}  // namespace

TEST_CASE("layer_error: W and H from a safetensors file give the objective tr(dW H dW^T)", "[suites][layer_error]") {
  test::TempDir dir;
  Layer l = make_layer();
  const auto file = (dir / "layer.safetensors").string();
  const auto saved = (dir / "out.safetensors").string();
  save_safetensors(file, {{"W", l.W}, {"H", l.H}});

  auto recs = run_table(table_for(file, "H", saved), dir);
  REQUIRE(recs.size() == 2);
  const double reference = trace_objective(l.W, at::zeros_like(l.W), l.H);
  for (const auto& r : recs) {
    INFO(r.label << ": " << r.error_message);
    REQUIRE(r.ok());
    if (r.label == "Dense") {
      CHECK(r.metrics.at("objective") == Approx(0.0).margin(1e-9));
      continue;
    }
    const at::Tensor expected = magnitude_2_4(l.W);
    const double objective = trace_objective(l.W, expected, l.H);
    CHECK(objective > 0.0);
    CHECK(r.metrics.at("objective") == Approx(objective).epsilon(1e-6));
    CHECK(r.metrics.at("rel_error") == Approx(objective / reference).epsilon(1e-6));
    // The saved layer is the one that was scored.
    SafetensorsFile out(saved);
    CHECK(at::allclose(out.get("weight_hat"), expected));
    CHECK_FALSE(out.contains("U"));
  }
}

TEST_CASE("layer_error: a Hessian that is not [in, in] or not symmetric fails the row", "[suites][layer_error]") {
  test::TempDir dir;
  Layer l = make_layer();
  at::Tensor skew = l.H.clone();
  skew[0][1] += 1.0;
  const auto file = (dir / "bad.safetensors").string();
  save_safetensors(file, {{"W", l.W}, {"wide", at::eye(8)}, {"skew", skew}});

  for (const char* name : {"wide", "skew"}) {
    INFO(name);
    test::TempDir results;
    DriverSummary s;
    auto recs = run_table(table_for(file, name, (results / "o.safetensors").string()), results, &s);
    CHECK(s.failed == 2);
    for (const auto& r : recs) {
      CHECK_FALSE(r.ok());
      CHECK(r.error_type == "DataError");
      CHECK(r.error_message.find(name) != std::string::npos);
    }
  }
}
