#include "tests/core/fake_plugins.h"

#include "core/error.h"
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
                                  param_string("mode", "fast", "a string with choices", {"fast", "slow"})}};
    return info;
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

}  // namespace
}  // namespace repro::test

REPRO_REGISTER_METHOD(test::FakeMethod, repro::test::Shrink);
REPRO_REGISTER_SUITE(repro::test::FakeSuite);
