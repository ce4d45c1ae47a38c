#include "tests/core/fake_plugins.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include "core/error.h"
#include "core/repetitions.h"
#include "core/run_context.h"
#include "core/table_spec.h"

namespace repro::test {

int& fake_suite_runs() {
  static int n = 0;
  return n;
}

namespace {

class Shrink : public FakeMethod {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info{"shrink", "FakeMethod", "multiplies the score by a factor", "", "1",
                                 {param_float("factor", 0.5, "score multiplier"),
                                  param_int("bits", 4, "pretend bit width"),
                                  param_bool("fail", false, "throw a NumericalError"),
                                  param_list("groups", ParamType::IntList, {Value(1), Value(2)}, "a list parameter"),
                                  param_string("mode", "fast", "a string with choices", {"fast", "slow"}),
                                  param_float("rate", 0.5, "a float in (0, 1]").above(0).at_most(1),
                                  param_int("width", 8, "an int >= 1, or -1").at_least(1).or_value(-1),
                                  param_component("solver", "FakeSolver", "greedy", "a nested component")}};
    return info;
  }
  // A cross-parameter rule, checked when a table loads: slow mode needs an even bit width.
  void configure(const Params& p) {
    if (p.get_string("mode") == "slow" && p.get_int("bits") % 2 != 0) p.fail("bits", "must be even in slow mode");
  }
};

class Greedy : public FakeSolver {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info{"greedy", "FakeSolver", "a nested plugin without parameters", "", "1", {}};
    return info;
  }
};

class Exact : public FakeSolver {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info{"exact", "FakeSolver", "a nested plugin with a ranged parameter", "", "7",
                                 {param_int("iters", 100, "iterations").range(1, 1000),
                                  param_float("tol", 1e-3, "tolerance").above(0)}};
    return info;
  }
  void configure(const Params& p) {
    if (p.get_int("iters") > 500 && p.get_float("tol") < 1e-6) p.fail("tol", "too small for more than 500 iterations");
  }
};

class FakeSuite : public Suite {
 public:
  static const SuiteInfo& static_info() {
    static const SuiteInfo info = [] {
      SuiteInfo i;
      i.name = "fake";
      i.family = Suite::kFamily;
      i.summary = "a suite for core tests: score = base * factor";
      i.params = {param_float("base", 10.0, "base score"), param_string("dataset", "d1", "dataset name"),
                  param_list("datasets", ParamType::StringList, {Value("a")}, "a list-typed suite parameter")};
      i.slots = {{"compressor", "FakeMethod", false, "the method"}};
      i.metrics = {{"score", Better::Lower, "lower is better", 4}, {"acc", Better::Higher, "higher is better", 4}};
      return i;
    }();
    return info;
  }
  const SuiteInfo& info() const override { return static_info(); }
  nlohmann::json fingerprint(const RowSpec& row, RunContext&) override {
    return {{"model", {{"name", "fake-model"}}}, {"data", {{"name", row.suite_params.get_string("dataset")}}}};
  }
  Record run_row(const RowSpec& row, RunContext&) override {
    ++fake_suite_runs();
    Record r;
    double score = row.suite_params.get_float("base");
    if (const Component* c = row.first("compressor")) {
      if (c->params.get_bool("fail")) throw NumericalError("planted failure");
      score *= c->params.get_float("factor");
    }
    r.metrics["score"] = score;
    r.metrics["acc"] = 1.0 / score;
    return r;
  }
};

class FakeNoisySuite : public Suite {
 public:
  static const SuiteInfo& static_info() {
    static const SuiteInfo info = [] {
      SuiteInfo i;
      i.name = kFakeNoisySuite;
      i.family = Suite::kFamily;
      i.summary = "a suite for core tests: a noisy metric over repetitions, a memory phase, planted errors";
      i.params = {param_float("base", 10.0, "the metric's expected value"),
                  param_int("work_mb", 0, "MiB held during the 'work' memory phase"),
                  param_string("fail", "none", "planted failure",
                               {"none", "cuda_oom_message", "torch_oom", "torch"}),
                  repeats_param()};
      i.metrics = {{"noisy", Better::Higher, "base + N(0, 1)", 4}, {"once", Better::Higher, "base", 4}};
      return i;
    }();
    return info;
  }
  const SuiteInfo& info() const override { return static_info(); }
  nlohmann::json fingerprint(const RowSpec&, RunContext&) override { return {{"model", {{"name", "fake-model"}}}}; }
  Record run_row(const RowSpec& row, RunContext& ctx) override {
    const Params& p = row.suite_params;
    const std::string fail = p.get_string("fail");
    if (fail == "cuda_oom_message")
      TORCH_CHECK(false, "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.15 GiB total capacity)");
    if (fail == "torch_oom") TORCH_CHECK_WITH(OutOfMemoryError, false, "planted device allocation failure");
    if (fail == "torch") TORCH_CHECK(false, "planted libtorch failure");
    Record r;
    {
      auto m = ctx.memory().phase("work");
      const int64_t n = p.get_int("work_mb") * 1024 * 1024 / 4;
      if (n > 0) r.details["work_sum"] = at::ones({n}, at::kFloat).sum().item<double>();
    }
    const double base = p.get_float("base");
    repeat_metrics(repeats_of(p), ctx, r, [&](int64_t) {
      at::Generator g = ctx.generator("noise");
      return std::map<std::string, double>{{"noisy", base + at::randn({1}, g).item<double>()}};
    });
    r.metrics["once"] = base;
    return r;
  }
};

}  // namespace
}  // namespace repro::test

REPRO_REGISTER_METHOD(test::FakeMethod, repro::test::Shrink);
REPRO_REGISTER_METHOD(test::FakeSolver, repro::test::Greedy);
REPRO_REGISTER_METHOD(test::FakeSolver, repro::test::Exact);
REPRO_REGISTER_SUITE(repro::test::FakeSuite);
REPRO_REGISTER_SUITE(repro::test::FakeNoisySuite);
