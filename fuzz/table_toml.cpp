// Table configs (paper_configs/<paper>/<table>.toml): TOML++ parsing (core/config.h) and the table
// spec built from it (core/table_spec.h): validation, per-scale values, sweep expansion, claims
// and plots. The real suites and methods need libtorch, so the target registers stand-ins with
// every kind of parameter; "fake", "shrink", "greedy" and "exact" are the fakes of the core tests
// (tests/core/fake_plugins.cpp), so a finding replays there unchanged. The table is loaded at both
// scales; every expanded row prints its canonical spec (part of each record's cache key).
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/config.h"
#include "core/registry.h"
#include "core/suite_registry.h"
#include "core/table_spec.h"
#include "fuzz/fuzz_util.h"

namespace repro::fuzz {
namespace {

class FakeMethod {
 public:
  static constexpr const char* kFamily = "FakeMethod";
  virtual ~FakeMethod() = default;
};
class FakeSolver {
 public:
  static constexpr const char* kFamily = "FakeSolver";
  virtual ~FakeSolver() = default;
};

class Shrink : public FakeMethod {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info{"shrink", "FakeMethod", "a method with every kind of parameter", "", "1",
                                 {param_float("factor", 0.5, "score multiplier"),
                                  param_int("bits", 4, "pretend bit width"),
                                  param_bool("fail", false, "unused here"),
                                  param_list("groups", ParamType::IntList, {Value(1), Value(2)}, "a list parameter"),
                                  param_string("mode", "fast", "a string with choices", {"fast", "slow"}),
                                  param_float("rate", 0.5, "a float in (0, 1]").above(0).at_most(1),
                                  param_int("width", 8, "an int >= 1, or -1").at_least(1).or_value(-1),
                                  param_component("solver", "FakeSolver", "greedy", "a nested component")}};
    return info;
  }
  void configure(const Params& p) {
    if (p.get_string("mode") == "slow" && p.get_int("bits") % 2 != 0) p.fail("bits", "must be even in slow mode");
  }
};

class Scale : public FakeMethod {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info{"scale", "FakeMethod", "list-typed and required parameters", "", "1",
                                 {param_required("alpha", ParamType::Float, "required"),
                                  param_list("weights", ParamType::FloatList, {Value(0.5)}, "floats"),
                                  param_list("names", ParamType::StringList, {}, "strings")}};
    return info;
  }
  void configure(const Params&) {}
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

// Suites are never run here: only their descriptions matter.
class NoRunSuite : public Suite {
 public:
  nlohmann::json fingerprint(const RowSpec&, RunContext&) override { throw NotSupported("fuzz suite"); }
  Record run_row(const RowSpec&, RunContext&) override { throw NotSupported("fuzz suite"); }
};

class FakeSuite : public NoRunSuite {
 public:
  static const SuiteInfo& static_info() {
    static const SuiteInfo info = [] {
      SuiteInfo i;
      i.name = "fake";
      i.family = Suite::kFamily;
      i.summary = "the core tests' fake suite";
      i.params = {param_float("base", 10.0, "base score"), param_string("dataset", "d1", "dataset name"),
                  param_list("datasets", ParamType::StringList, {Value("a")}, "a list-typed suite parameter")};
      i.slots = {{"compressor", "FakeMethod", false, "the method"}};
      i.metrics = {{"score", Better::Lower, "lower is better", 4}, {"acc", Better::Higher, "higher is better", 4}};
      return i;
    }();
    return info;
  }
  const SuiteInfo& info() const override { return static_info(); }
};

class PipelineSuite : public NoRunSuite {
 public:
  static const SuiteInfo& static_info() {
    static const SuiteInfo info = [] {
      SuiteInfo i;
      i.name = "pipeline";
      i.family = Suite::kFamily;
      i.summary = "a list slot and a model parameter, like the perplexity suite";
      i.params = {param_string("model", "zoo:tiny", "model"), param_int("seqlen", 128, "tokens").at_least(1),
                  param_list("tasks", ParamType::StringList, {}, "tasks")};
      i.slots = {{"transforms", "FakeMethod", true, "applied in order"},
                 {"compressor", "FakeMethod", false, "the method"},
                 {"refiner", "FakeSolver", false, "after compression"}};
      i.metrics = {{"ppl", Better::Lower, "", 4}, {"time", Better::None, "", 3}};
      return i;
    }();
    return info;
  }
  const SuiteInfo& info() const override { return static_info(); }
};

}  // namespace
}  // namespace repro::fuzz

REPRO_REGISTER_METHOD(fuzz::FakeMethod, repro::fuzz::Shrink);
REPRO_REGISTER_METHOD(fuzz::FakeMethod, repro::fuzz::Scale);
REPRO_REGISTER_METHOD(fuzz::FakeSolver, repro::fuzz::Greedy);
REPRO_REGISTER_METHOD(fuzz::FakeSolver, repro::fuzz::Exact);
REPRO_REGISTER_SUITE(repro::fuzz::FakeSuite);
REPRO_REGISTER_SUITE(repro::fuzz::PipelineSuite);

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  repro::fuzz::expect_clean([&] {
    const repro::Value root = repro::parse_toml(text, "fuzz.toml");
    for (const char* scale : {"embedded", "paper"}) {
      repro::fuzz::expect_clean([&] {
        repro::LoadOptions options;
        options.scale = scale;
        const repro::TableSpec t = repro::TableSpec::parse(root, "fuzz/table", options);
        REPRO_FUZZ_CHECK(!t.rows.empty());
        for (const auto& row : t.rows) (void)row.canonical();
      });
    }
  });
  return 0;
}
