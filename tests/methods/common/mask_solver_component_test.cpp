// A second MaskSolver, registered by this test only, plugs into every pruner by configuration:
// `mask_solver = { method = "test_fixed_slots", offset = 1 }`.

#include <fmt/format.h>

#include <ATen/ATen.h>

#include "core/config.h"
#include "core/error.h"
#include "core/run_context.h"
#include "methods/api/mask_solver.h"
#include "methods/common/topk.h"
#include "tests/catch.h"
#include "tests/methods/method_test_util.h"

using namespace repro;

namespace {

// Ignores the scores: keeps columns (offset + k) mod M, k < N, of every group. A pruner that uses
// its solver therefore returns exactly this mask, whatever its own scores.
class FixedSlotsSolver final : public MaskSolver {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info{"test_fixed_slots", MaskSolver::kFamily,
                                 "test only: keeps fixed slots of every group", "", "3",
                                 {param_int("offset", 0, "first kept slot of every group").range(0, 15)}};
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }
  void configure(const Params& p) override { offset_ = p.get_int("offset"); }
  at::Tensor solve(const at::Tensor& scores, NMPattern pattern, RunContext&) override {
    ++calls();
    return expected(scores.size(0), scores.size(1), pattern, offset_).to(scores.device());
  }

  static at::Tensor expected(int64_t out, int64_t in, NMPattern pattern, int64_t offset) {
    at::Tensor slot = at::arange(in).remainder(pattern.m);
    at::Tensor keep = (slot - offset % pattern.m).remainder(pattern.m).lt(pattern.n);
    return keep.unsqueeze(0).expand({out, in}).contiguous();
  }
  static int64_t& calls() {
    static int64_t n = 0;
    return n;
  }

 private:
  int64_t offset_ = 0;
};

}  // namespace

REPRO_REGISTER_METHOD(MaskSolver, FixedSlotsSolver);

TEST_CASE("mask_solver component: a second solver plugs into every pruner", "[methods][sparsity]") {
  auto f = test::make_layer(16, 64, 5);
  const at::Tensor want = FixedSlotsSolver::expected(16, 64, {2, 4}, 1);
  for (const char* pruner : {"sparsegpt", "wanda", "alps", "magnitude", "oats", "threebasil", "hassle_free", "eora"}) {
    INFO(pruner);
    const std::string name = pruner;
    Value::Table base{{"pattern", "2:4"}};
    if (name == "alps" || name == "threebasil") base["max_iter"] = 20;
    if (name == "oats" || name == "threebasil" || name == "hassle_free" || name == "eora") base["rank"] = 2;
    if (name == "oats" || name == "hassle_free") base["iterations"] = 3;
    Value::Table params = base;
    params["mask_solver"] = Value(Value::Table{{"method", "test_fixed_slots"}, {"offset", 1}});
    const int64_t before = FixedSlotsSolver::calls();
    CompressedLinear c = test::compress(pruner, params, f);
    CHECK(FixedSlotsSolver::calls() > before);
    CHECK(at::equal(c.mask(), want));
    CompressedLinear d = test::compress(pruner, base, f);  // default: topk
    CHECK_FALSE(at::equal(d.mask(), want));
    CHECK(satisfies_nm(d.mask(), {2, 4}, true));
  }
}

TEST_CASE("mask_solver component: its parameters are validated and canonical", "[methods][sparsity]") {
  auto m = test::make_compressor("wanda", {{"pattern", "2:4"},
                                           {"mask_solver", Value(Value::Table{{"method", "test_fixed_slots"}})}});
  Params p = Params::validate(
      Value(Value::Table{{"mask_solver", Value(Value::Table{{"method", "test_fixed_slots"}, {"offset", 2}})}}),
      m->info().params, "wanda");
  CHECK(p.canonical().find("mask_solver=test_fixed_slots(offset=2)") != std::string::npos);
  CHECK(p.component_versions() == std::vector<std::string>{"test_fixed_slots@3"});
  CHECK_THROWS_AS(test::make_compressor("wanda", {{"mask_solver", Value(Value::Table{{"method", "test_fixed_slots"},
                                                                                      {"offset", 16}})}}),
                  ConfigError);
  CHECK_THROWS_AS(test::make_compressor("sparsegpt", {{"mask_solver", "tsenorr"}}), ConfigError);
}
