// The transposable N:M mask solvers (tsenor, greedy_transposable, exact_transposable) and their
// shared steps (methods/common/transposable.h, transposable_flow.h). `build/tests/test_methods "[tsenor]"`.

#include <ATen/ATen.h>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>

#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/run_context.h"
#include "methods/api/mask_solver.h"
#include "methods/common/mask_solver.h"
#include "methods/common/topk.h"
#include "methods/common/transposable.h"
#include "methods/common/transposable_flow.h"
#include "tests/catch.h"
#include "tests/methods/method_test_util.h"

using namespace repro;

namespace {

const std::vector<NMPattern> kPatterns = {{1, 4}, {2, 4}, {4, 8}, {8, 16}, {16, 32}};
const std::vector<std::string> kSolvers = {"tsenor", "greedy_transposable", "exact_transposable"};

at::Generator gen(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

at::Tensor abs_normal(int64_t r, int64_t c, uint64_t seed) {
  at::Generator g = gen(seed);
  return at::randn({r, c}, g, at::kFloat).abs_();
}

std::unique_ptr<MaskSolver> make_solver(const std::string& name, const Value::Table& params = {}) {
  auto s = Registry<MaskSolver>::instance().create(name);
  s->configure(Params::validate(Value(params), s->info().params, name));
  return s;
}

at::Tensor solve(const std::string& name, const at::Tensor& scores, NMPattern p, const Value::Table& params = {}) {
  auto s = make_solver(name, params);
  return solve_mask(*s, scores, p, test::quiet_context());
}

// Kept score of every m x m block of scores under mask, [B] fp64.
at::Tensor objective(const at::Tensor& scores, const at::Tensor& mask, int64_t m) {
  return block_objective(to_blocks(scores, m), to_blocks(mask, m));
}

// Test only: claims to be transposable but keeps the per-row top N of every group (N:M along rows
// only), so solve_mask must reject its masks.
class RowOnlySolver final : public MaskSolver {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info{"test_row_only_transposable",
                                 MaskSolver::kFamily,
                                 "test only: claims transposable, returns row-wise N:M",
                                 "",
                                 "1",
                                 {}};
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }
  void configure(const Params&) override {}
  bool transposable() const override { return true; }
  at::Tensor solve(const at::Tensor& scores, NMPattern pattern, RunContext&) override {
    return nm_topk_mask(scores, pattern);
  }
};

}  // namespace

REPRO_REGISTER_METHOD(MaskSolver, RowOnlySolver);

TEST_CASE("transposable: to_blocks / from_blocks lay blocks out row-major and round-trip", "[tsenor]") {
  at::Tensor x = at::arange(8 * 12, at::kFloat).view({8, 12});
  at::Tensor b = to_blocks(x, 4);
  REQUIRE(b.sizes() == at::IntArrayRef({6, 4, 4}));
  // Block (1, 2) is rows 4..7, columns 8..11.
  CHECK(at::equal(b[1 * 3 + 2], x.slice(0, 4, 8).slice(1, 8, 12)));
  CHECK(at::equal(from_blocks(b, 8, 12), x));
  CHECK(satisfies_transposable_nm(from_blocks(at::eye(4, at::kBool).repeat({6, 1, 1}), 8, 12), {1, 4}));
  CHECK_FALSE(satisfies_transposable_nm(nm_topk_mask(abs_normal(8, 8, 1), {2, 4}), {2, 4}));
  CHECK_FALSE(satisfies_transposable_nm(at::ones({6, 8}, at::kBool), {4, 4}));  // rows not a multiple of 4
}

TEST_CASE("transposable solvers keep exactly N per row and column of every block", "[tsenor]") {
  for (const NMPattern p : kPatterns) {
    const int64_t m = p.m;
    at::Generator g = gen(7);
    std::vector<std::pair<std::string, at::Tensor>> inputs = {
        {"abs normal", abs_normal(2 * m, 3 * m, 11)},
        {"all equal", at::ones({2 * m, 2 * m})},
        {"all zero", at::zeros({m, 2 * m})},
        {"many ties", at::randint(0, 3, {2 * m, 2 * m}, g, at::kFloat)},
        {"huge range", at::randn({2 * m, 2 * m}, g, at::kFloat).clamp_(-4, 4).mul_(20).exp_()},  // 1e-35..1e35
        {"negative", at::randn({m, m}, g, at::kFloat).sub_(5)},
    };
    for (const auto& name : kSolvers)
      for (const auto& [what, scores] : inputs) {
        INFO(name << " " << p.n << ":" << p.m << " on " << what);
        at::Tensor mask;
        REQUIRE_NOTHROW(mask = solve(name, scores, p));  // solve_mask checks rows and columns
        CHECK(satisfies_transposable_nm(mask, p));
        CHECK(mask.scalar_type() == at::kBool);
      }
  }
}

TEST_CASE("exact_transposable: the flow optimum equals enumeration of all feasible patterns", "[tsenor]") {
  CHECK(transposable_patterns(2, 4).size(0) == 90);
  CHECK(transposable_patterns(1, 4).size(0) == 24);
  CHECK(block_feasible(transposable_patterns(2, 4), 2).all().item<bool>());
  for (const NMPattern p : {NMPattern{2, 4}, NMPattern{1, 4}, NMPattern{3, 4}}) {
    INFO(p.n << ":" << p.m);
    at::Tensor scores = abs_normal(128, 128, 3 + p.n);  // 1024 blocks
    at::Tensor flow = solve("exact_transposable", scores, p);
    at::Tensor enumerated = solve("exact_transposable", scores, p, {{"method", "enumerate"}});
    at::Tensor a = objective(scores, flow, 4), b = objective(scores, enumerated, 4);
    CHECK((a - b).abs().div(b.abs().clamp_min(1e-12)).max().item<double>() < 1e-5);
  }
  CHECK_THROWS_AS(solve("exact_transposable", abs_normal(8, 8, 1), {4, 8}, {{"method", "enumerate"}}), NotSupported);
}

TEST_CASE("tsenor is within a few percent of the optimum and greedy is a 2-approximation", "[tsenor]") {
  struct Case {
    NMPattern p;
    int64_t size;
    double tsenor_gap;  // bound on the mean relative gap (measured, with margin: README)
  };
  for (const Case c :
       {Case{{2, 4}, 128, 0.005}, Case{{4, 8}, 128, 0.005}, Case{{8, 16}, 256, 0.005}, Case{{16, 32}, 256, 0.005}}) {
    INFO(c.p.n << ":" << c.p.m);
    at::Tensor scores = abs_normal(c.size, c.size, 100 + c.p.m);
    at::Tensor opt = objective(scores, solve("exact_transposable", scores, c.p), c.p.m);
    at::Tensor ts = objective(scores, solve("tsenor", scores, c.p), c.p.m);
    at::Tensor gr = objective(scores, solve("greedy_transposable", scores, c.p), c.p.m);
    CHECK((ts <= opt * (1 + 1e-6)).all().item<bool>());
    CHECK((gr <= opt * (1 + 1e-6)).all().item<bool>());
    CHECK((gr >= 0.5 * opt).all().item<bool>());
    const double ts_gap = ((opt - ts) / opt).mean().item<double>();
    const double gr_gap = ((opt - gr) / opt).mean().item<double>();
    INFO("tsenor gap " << ts_gap << ", greedy gap " << gr_gap);
    CHECK(ts_gap < c.tsenor_gap);
    CHECK(gr_gap >= ts_gap);
  }
}

TEST_CASE("dykstra_transposable converges to a doubly capped transport plan on either path", "[tsenor]") {
  for (const NMPattern p : {NMPattern{2, 4}, NMPattern{8, 16}, NMPattern{16, 32}}) {
    INFO(p.n << ":" << p.m);
    at::Tensor A = to_blocks(abs_normal(4 * p.m, 4 * p.m, 5), p.m);
    DykstraOptions o;
    o.tau = 10;
    o.iters = 300;
    DykstraResult fused = dykstra_transposable(A, p.n, o);
    o.batched_tensor = true;
    DykstraResult batched = dykstra_transposable(A, p.n, o);
    for (const DykstraResult* r : {&fused, &batched}) {
      CHECK(r->iterations == 300);
      CHECK((r->S.sum(2) - p.n).abs().max().item<double>() < 1e-3);
      CHECK((r->S.sum(1) - p.n).abs().max().item<double>() < 1e-3);
      CHECK(r->S.max().item<double>() <= 1 + 1e-6);
      CHECK(r->S.min().item<double>() >= 0);
    }
    CHECK((fused.S - batched.S).abs().max().item<double>() < 1e-4);
    // The early stop ends once the sums are within tol, on both paths.
    o.tol = 1e-2;
    for (bool batched_path : {false, true}) {
      o.batched_tensor = batched_path;
      DykstraResult r = dykstra_transposable(A, p.n, o);
      CHECK(r.iterations < 300);
      CHECK((r.S.sum(2) - p.n).abs().max().item<double>() < 1e-2);
      CHECK((r.S.sum(1) - p.n).abs().max().item<double>() < 1e-2);
    }
  }
}

TEST_CASE("tsenor recovers a planted feasible pattern", "[tsenor]") {
  for (const NMPattern p : {NMPattern{2, 4}, NMPattern{8, 16}, NMPattern{16, 32}}) {
    INFO(p.n << ":" << p.m);
    // A random feasible pattern: the optimum of random scores.
    at::Tensor P = solve("exact_transposable", abs_normal(2 * p.m, 3 * p.m, 21), p);
    at::Generator g = gen(22);
    at::Tensor scores = P.to(at::kFloat).mul_(10).add_(at::rand(P.sizes(), g, at::kFloat).mul_(0.1));
    CHECK(at::equal(solve("tsenor", scores, p), P));
  }
}

TEST_CASE("greedy rounding: the C++ loop and the batched tensor steps give the same mask", "[tsenor]") {
  for (const NMPattern p : {NMPattern{2, 4}, NMPattern{4, 8}, NMPattern{8, 16}}) {
    INFO(p.n << ":" << p.m);
    at::Generator g = gen(31);
    at::Tensor A = to_blocks(abs_normal(4 * p.m, 4 * p.m, 32), p.m);
    DykstraOptions o;
    o.iters = 20;
    at::Tensor S = dykstra_transposable(A, p.n, o).S;
    at::Tensor ties = at::randint(0, 3, A.sizes(), g, at::kFloat);
    for (const auto& [prio, a] : std::vector<std::pair<at::Tensor, at::Tensor>>{
             {S, A}, {A, A}, {ties, ties}, {ties, at::zeros_like(A)}, {S.round(), ties}}) {
      at::Tensor cpu = greedy_round(prio, a, p.n, false), batched = greedy_round(prio, a, p.n, true);
      CHECK(at::equal(cpu, batched));
      CHECK((cpu.sum(2) <= p.n).all().item<bool>());
      CHECK((cpu.sum(1) <= p.n).all().item<bool>());
    }
  }
}

TEST_CASE("repair: the C++ loop and the batched tensor steps make the same moves", "[tsenor]") {
  for (const NMPattern p : {NMPattern{1, 4}, NMPattern{2, 4}, NMPattern{8, 16}, NMPattern{16, 32}}) {
    at::Generator g = gen(71);
    at::Tensor A = to_blocks(abs_normal(4 * p.m, 4 * p.m, 72), p.m);
    at::Tensor ties = at::randint(0, 3, A.sizes(), g, at::kFloat);
    for (const at::Tensor& a : {A, ties}) {
      const at::Tensor start = greedy_round(a, a, p.n);
      for (int64_t steps : {0, 1, 3, 1000}) {
        INFO(p.n << ":" << p.m << ", " << steps << " steps");
        at::Tensor cpu = start.clone(), batched = start.clone();
        at::Tensor failed_cpu = repair_transposable(a, cpu, p.n, steps, false);
        at::Tensor failed_batched = repair_transposable(a, batched, p.n, steps, true);
        CHECK(at::equal(cpu, batched));
        CHECK(at::equal(failed_cpu, failed_batched));
        CHECK(at::equal(failed_cpu, block_feasible(cpu, p.n).logical_not()));
      }
    }
  }
}

TEST_CASE("repair_transposable completes a maximal greedy mask; finish falls back to the exact solver", "[tsenor]") {
  const NMPattern p{8, 16};
  at::Tensor A = to_blocks(abs_normal(64, 64, 41), p.m);
  at::Tensor greedy = greedy_round(A, A, p.n);
  REQUIRE_FALSE(block_feasible(greedy, p.n).all().item<bool>());  // greedy alone leaves gaps here
  at::Tensor repaired = greedy.clone();
  CHECK_FALSE(repair_transposable(A, repaired, p.n, 1000).any().item<bool>());
  CHECK(block_feasible(repaired, p.n).all().item<bool>());
  // Only blocks that were short change, and never lose score below half the optimum.
  at::Tensor opt = block_objective(A, exact_transposable_blocks(A, p.n));
  CHECK((block_objective(A, repaired) >= 0.5 * opt).all().item<bool>());
  // With no local search every short block is solved exactly.
  at::Tensor finished = greedy.clone();
  const int64_t short_blocks = block_feasible(greedy, p.n).logical_not().sum().item<int64_t>();
  CHECK(finish_transposable(A, finished, p.n, 0) == short_blocks);
  CHECK(block_feasible(finished, p.n).all().item<bool>());
  at::Tensor fixed = block_feasible(greedy, p.n).logical_not();
  CHECK(at::allclose(block_objective(A, finished).masked_select(fixed), opt.masked_select(fixed)));
}

TEST_CASE("transposable solvers: transposed scores, determinism", "[tsenor]") {
  const NMPattern p{8, 16};
  at::Tensor A = abs_normal(64, 96, 51);
  at::Tensor At = A.t().contiguous();
  // The optimum of A^T is the optimum of A, transposed (equal objective per block).
  at::Tensor opt_t = objective(At, solve("exact_transposable", At, p), p.m).sum();
  at::Tensor opt_transposed = objective(At, solve("exact_transposable", A, p).t().contiguous(), p.m).sum();
  CHECK(opt_t.item<double>() == Approx(opt_transposed.item<double>()).epsilon(1e-6));
  // tsenor is not symmetric in rows and columns, but both ways land near the optimum.
  const double ts_t = objective(At, solve("tsenor", At, p), p.m).sum().item<double>();
  const double ts_transposed = objective(At, solve("tsenor", A, p).t().contiguous(), p.m).sum().item<double>();
  CHECK(ts_t > 0.99 * opt_t.item<double>());
  CHECK(ts_transposed > 0.99 * opt_t.item<double>());
  for (const auto& name : kSolvers) CHECK(at::equal(solve(name, A, p), solve(name, A.clone(), p)));
}

TEST_CASE("solve_mask checks transposable solvers' shapes and masks", "[tsenor]") {
  RunContext& ctx = test::quiet_context();
  auto fake = make_solver("test_row_only_transposable");
  CHECK_THROWS_AS(solve_mask(*fake, abs_normal(8, 8, 61), {2, 4}, ctx), InternalError);
  auto ts = make_solver("tsenor");
  try {
    solve_mask(*ts, abs_normal(6, 8, 62), {2, 4}, ctx);
    FAIL("rows % m != 0 accepted");
  } catch (const NotSupported& e) {
    CHECK(std::string(e.what()).find("[6, 8]") != std::string::npos);
  }
  at::Tensor nan = abs_normal(8, 8, 64);
  nan[3][5] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_AS(solve_mask(*ts, nan, {2, 4}, ctx), NumericalError);
  nan[3][5] = -std::numeric_limits<float>::infinity();
  CHECK_THROWS_AS(solve_mask(*make_solver("exact_transposable"), nan, {2, 4}, ctx), NumericalError);
  // A non-transposable solver still takes any number of rows.
  CHECK_NOTHROW(solve_mask(*make_solver("topk"), abs_normal(6, 8, 63), {2, 4}, ctx));
  CHECK(ts->transposable());
  CHECK_FALSE(make_solver("topk")->transposable());
}

TEST_CASE("tsenor parameters are validated", "[tsenor]") {
  for (const Value::Table& bad : {Value::Table{{"tau", 0}}, Value::Table{{"tau", 81}}, Value::Table{{"iters", 0}},
                                  Value::Table{{"tol", -1e-3}}, Value::Table{{"local_search", -1}}})
    CHECK_THROWS_AS(make_solver("tsenor", bad), ConfigError);
  CHECK_THROWS_AS(make_solver("exact_transposable", {{"method", "lp"}}), ConfigError);
  CHECK_NOTHROW(make_solver("tsenor", {{"tau", 80}, {"iters", 1}, {"tol", 0}, {"local_search", 0}}));
}

TEST_CASE("pruners choose transposable masks through mask_solver = tsenor", "[tsenor]") {
  auto f = test::make_layer(32, 64, 81);
  for (const char* pruner : {"wanda", "sparsegpt", "magnitude", "alps"})
    for (const char* solver : {"tsenor", "greedy_transposable", "exact_transposable"}) {
      INFO(pruner << " with " << solver);
      CompressedLinear c =
          test::compress(pruner, {{"pattern", "4:8"}, {"mask_solver", solver}, {"transposable", true}}, f);
      CHECK(satisfies_transposable_nm(c.mask(), {4, 8}));
    }
  // Without transposable = true the pruner keeps its row-wise masks, which are not transposable here.
  CHECK_FALSE(satisfies_transposable_nm(test::compress("wanda", {{"pattern", "4:8"}}, f).mask(), {4, 8}));
  // A transposable solver without transposable = true, and the reverse, are configuration errors.
  CHECK_THROWS_AS(test::compress("wanda", {{"pattern", "4:8"}, {"mask_solver", "tsenor"}}, f), ConfigError);
  CHECK_THROWS_AS(test::compress("wanda", {{"pattern", "4:8"}, {"transposable", true}}, f), ConfigError);
  // 20 output rows are not a multiple of 8: the transposable pattern does not tile the layer.
  auto g = test::make_layer(20, 64, 82);
  CHECK_THROWS_AS(
      test::compress("wanda", {{"pattern", "4:8"}, {"mask_solver", "tsenor"}, {"transposable", true}}, g),
      NotSupported);
}

TEST_CASE("transposable solvers on CUDA tensors: same rounding and repair, feasible masks near the optimum",
          "[tsenor][cuda]") {
  if (!at::hasCUDA()) {
    WARN("no CUDA device: skipped");
    return;
  }
  for (const NMPattern p : {NMPattern{2, 4}, NMPattern{8, 16}, NMPattern{16, 32}}) {
    INFO(p.n << ":" << p.m);
    at::Tensor scores = abs_normal(8 * p.m, 8 * p.m, 91);
    at::Tensor A = to_blocks(scores, p.m);
    at::Tensor S = dykstra_transposable(A, p.n).S;
    CHECK((dykstra_transposable(A.cuda(), p.n).S.cpu() - S).abs().max().item<double>() < 1e-3);
    at::Tensor cpu = greedy_round(S, A, p.n), gpu = greedy_round(S.cuda(), A.cuda(), p.n);
    REQUIRE(gpu.is_cuda());
    CHECK(at::equal(cpu, gpu.cpu()));
    at::Tensor failed_cpu = repair_transposable(A, cpu, p.n, 32);
    at::Tensor failed_gpu = repair_transposable(A.cuda(), gpu, p.n, 32);
    CHECK(at::equal(cpu, gpu.cpu()));
    CHECK(at::equal(failed_cpu, failed_gpu.cpu()));
    at::Tensor opt = objective(scores, solve("exact_transposable", scores, p), p.m);
    for (const auto& name : kSolvers) {
      INFO(name);
      at::Tensor mask = solve(name, scores.cuda(), p);
      REQUIRE(mask.is_cuda());
      CHECK(satisfies_transposable_nm(mask.cpu(), p));
      CHECK(((opt - objective(scores, mask.cpu(), p.m)) / opt).mean().item<double>() < 0.01);
    }
  }
}
