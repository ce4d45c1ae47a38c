// The mask_quality suite through the table driver, measured against an exact transposable 2:4
// solver defined here (enumeration of the 90 feasible 4x4 blocks), so the suite is tested without
// the real transposable solvers: gaps and feasibility on a hand-made 4x4 matrix (exact values), on
// random heavy-tailed matrices and on zoo:micro's weights; the reference computed once per table
// run and reused from disk by the next; the same numbers for the same seed; a clear error for a
// matrix the pattern does not tile.
#include "tests/catch.h"

#include <ATen/ATen.h>

#include <cmath>
#include <map>

#include "core/config.h"
#include "core/driver.h"
#include "core/table_spec.h"
#include "methods/api/mask_solver.h"
#include "methods/common/topk.h"
#include "models/safetensors.h"
#include "suites/mask_quality/mask_stats.h"
#include "suites/mask_quality/score_matrices.h"
#include "tests/test_util.h"

using namespace repro;

namespace {

// Every binary 4x4 block with two ones in each row and each column, as rows of a [90, 16] float tensor.
at::Tensor transposable_2_4_blocks() {
  std::vector<float> flat;
  for (int bits = 0; bits < (1 << 16); ++bits) {
    int rows[4] = {0, 0, 0, 0}, cols[4] = {0, 0, 0, 0};
    for (int k = 0; k < 16; ++k)
      if (bits >> k & 1) ++rows[k / 4], ++cols[k % 4];
    bool ok = true;
    for (int k = 0; k < 4; ++k) ok = ok && rows[k] == 2 && cols[k] == 2;
    if (!ok) continue;
    for (int k = 0; k < 16; ++k) flat.push_back(static_cast<float>(bits >> k & 1));
  }
  return at::tensor(flat).reshape({-1, 16});
}

void require_2_4(NMPattern p, const char* name) {
  if (p.n != 2 || p.m != 4) throw NotSupported(std::string(name) + " solves 2:4 only");
}

// [R, C] -> [blocks, 16], block (bi, bj) row-major; and back.
at::Tensor to_blocks(const at::Tensor& x) {
  return x.reshape({x.size(0) / 4, 4, x.size(1) / 4, 4}).permute({0, 2, 1, 3}).reshape({-1, 16});
}
at::Tensor from_blocks(const at::Tensor& b, int64_t R, int64_t C) {
  return b.reshape({R / 4, C / 4, 4, 4}).permute({0, 2, 1, 3}).reshape({R, C});
}

// Exact transposable 2:4: each block keeps the best of the 90 feasible blocks.
class ExhaustiveTwoFour final : public MaskSolver {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info{"test_exhaustive_2x4", MaskSolver::kFamily,
                                 "test: exact transposable 2:4 by enumerating the 90 feasible blocks", "", "1", {}};
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }
  void configure(const Params&) override {}
  at::Tensor solve(const at::Tensor& scores, NMPattern pattern, RunContext&) override {
    require_2_4(pattern, "test_exhaustive_2x4");
    static const at::Tensor kBlocks = transposable_2_4_blocks();
    at::Tensor best = at::matmul(to_blocks(scores), kBlocks.t()).argmax(1);
    return from_blocks(kBlocks.index_select(0, best), scores.size(0), scores.size(1)).to(at::kBool);
  }
};

// A transposable 2:4 mask that ignores the scores: rows keep columns {0,1}, {2,3}, {0,1}, {2,3}.
class FixedTwoFour final : public MaskSolver {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info{"test_fixed_2x4", MaskSolver::kFamily, "test: one fixed transposable 2:4 block",
                                 "", "1", {}};
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }
  void configure(const Params&) override {}
  at::Tensor solve(const at::Tensor& scores, NMPattern pattern, RunContext&) override {
    require_2_4(pattern, "test_fixed_2x4");
    at::Tensor tile = at::tensor({1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1}).reshape({4, 4}).to(at::kBool);
    return tile.repeat({scores.size(0) / 4, scores.size(1) / 4}).to(scores.device());
  }
};

REPRO_REGISTER_METHOD(MaskSolver, ExhaustiveTwoFour);
REPRO_REGISTER_METHOD(MaskSolver, FixedTwoFour);

// Row-wise top-2 of 4 keeps {9,8}, {7,6}, {5,4}, {4,3} = 46, three per column in columns 0 and 1;
// the best transposable mask keeps {9,8}, {7,6}, {3,2}, {3,4} = 42 (the only one above 39); the fixed
// block keeps 9+8 + 2+1 + 5+4 + 3+4 = 36; all scores sum to 58.
at::Tensor hand_matrix() {
  return at::tensor({9.f, 8.f, 1.f, 0.f, 7.f, 6.f, 2.f, 1.f, 5.f, 4.f, 3.f, 2.f, 1.f, 2.f, 3.f, 4.f}).reshape({4, 4});
}

RunContext quiet_context(uint64_t seed = 0, const std::filesystem::path& cache_dir = {}) {
  RunOptions o;
  o.progress = false;
  o.log_level = "off";
  o.seed = seed;
  o.cache_dir = cache_dir;
  return RunContext(o);
}

const char* kRows = R"(
[[rows]]
label = "Exact"
solver = "test_exhaustive_2x4"

[[rows]]
label = "Top-2"
solver = "topk"

[[rows]]
label = "Fixed"
solver = "test_fixed_2x4"
)";

std::string table_text(const std::string& suite) {
  return "[table]\ntitle = \"micro mask quality\"\nsuite = \"mask_quality\"\n\n[suite]\n" + suite +
         "\nreference = \"test_exhaustive_2x4\"\npattern = \"2:4\"\n" + kRows;
}

// label -> record, for one table run.
std::map<std::string, Record> run_table(const std::string& text, RunContext& ctx, const std::filesystem::path& results,
                                        bool force = false) {
  auto table = TableSpec::parse(parse_toml(text, "mask_quality.toml"), "test/mask_quality", {});
  ResultStore store(results);
  TableDriver driver(table, store, ctx);
  DriverOptions opts;
  opts.force = force;
  driver.run(opts);
  std::map<std::string, Record> out;
  for (auto& r : store.list("test/mask_quality")) out[r.label] = r;
  return out;
}

int64_t counter(const Record& r, const std::string& name) {
  auto it = r.counters.find(name);
  return it == r.counters.end() ? 0 : it->second;
}

}  // namespace

TEST_CASE("mask stats and gaps on a hand-made 4x4 matrix", "[suites][mask_quality]") {
  RunContext ctx = quiet_context();
  const at::Tensor A = hand_matrix();
  const NMPattern p{2, 4};
  MaskStats topk = measure_mask(A, nm_topk_mask(A, p), p);
  CHECK(topk.objective == 46.0);
  CHECK(topk.blocks == 1);
  CHECK(topk.feasible_blocks == 0);
  CHECK(topk.groups == 4);
  CHECK(topk.exact_groups == 4);
  CHECK(topk.over_groups == 0);
  ExhaustiveTwoFour exact;
  MaskStats best = measure_mask(A, exact.solve(A, p, ctx), p);
  CHECK(best.objective == 42.0);
  CHECK(best.feasible_blocks == 1);
  CHECK(score_total(A) == 58.0);
  // The transposable optimum loses to the row-wise relaxation: topk's gap is negative.
  CHECK(relative_gap_percent(42, 46) == Approx(-100.0 * 4 / 42));
  CHECK(pruned_gap_percent(42, 46, 58) == Approx(-25.0));
  CHECK(relative_gap_percent(42, 36) == Approx(100.0 * 6 / 42));
  CHECK(pruned_gap_percent(42, 36, 58) == Approx(37.5));
  CHECK(relative_gap_percent(0, 0) == 0.0);
  CHECK(std::isnan(relative_gap_percent(0, 1)));
  // Keeping a whole row: three of four rows' groups are exact, one keeps more than N.
  at::Tensor over = nm_topk_mask(A, p);
  over.select(0, 3).fill_(true);
  MaskStats o = measure_mask(A, over, p);
  CHECK(o.exact_groups == 3);
  CHECK(o.over_groups == 1);
  CHECK(o.row_feasible_percent() == 75.0);
}

TEST_CASE("mask_quality suite: exact metrics on a hand-made matrix, reference solved once and cached on disk",
          "[suites][mask_quality]") {
  test::TempDir dir;
  save_safetensors(dir / "a.safetensors", {{"A", hand_matrix()}});
  const std::string text = table_text("matrices = \"safetensors\"\nfile = \"" + (dir / "a.safetensors").string() + "\"");
  RunContext ctx = quiet_context(0, dir / "cache");
  auto recs = run_table(text, ctx, dir / "runs");
  REQUIRE(recs.size() == 3);
  for (const auto& [label, r] : recs) {
    INFO(label << ": " << r.error_message);
    REQUIRE(r.ok());
    CHECK(r.metrics.at("row_feasible") == 100.0);
    CHECK(r.metrics.at("time_s") >= 0.0);
  }
  const Record& exact = recs.at("Exact");
  CHECK(exact.metrics.at("rel_gap") == 0.0);
  CHECK(exact.metrics.at("pruned_gap") == 0.0);
  CHECK(exact.metrics.at("feasible") == 100.0);
  CHECK(exact.metrics.at("time_s") == exact.metrics.at("ref_s"));  // the reference's own row is the reference
  const Record& topk = recs.at("Top-2");
  CHECK(topk.metrics.at("rel_gap") == Approx(-100.0 * 4 / 42));
  CHECK(topk.metrics.at("pruned_gap") == Approx(-25.0));
  CHECK(topk.metrics.at("feasible") == 0.0);
  const Record& fixed = recs.at("Fixed");
  CHECK(fixed.metrics.at("rel_gap") == Approx(100.0 * 6 / 42));
  CHECK(fixed.metrics.at("pruned_gap") == Approx(37.5));
  CHECK(fixed.metrics.at("feasible") == 100.0);
  CHECK(fixed.details.at("matrices")[0].at("name") == "A");

  // Rows run in order: the reference's own row solves it, the others reuse it from memory.
  CHECK(counter(exact, "reference_solves") == 1);
  CHECK(counter(topk, "reference_solves") == 0);
  CHECK(counter(topk, "reference_memory_hits") == 1);
  CHECK(counter(fixed, "reference_memory_hits") == 1);

  // A new run (a new suite instance) finds it on disk; without a cache folder it solves again.
  RunContext again = quiet_context(0, dir / "cache");
  auto forced = run_table(text, again, dir / "runs", /*force=*/true);
  CHECK(counter(forced.at("Exact"), "reference_disk_hits") == 1);
  CHECK(counter(forced.at("Exact"), "reference_solves") == 0);
  CHECK(forced.at("Top-2").metrics.at("rel_gap") == topk.metrics.at("rel_gap"));
  CHECK(forced.at("Exact").metrics.at("ref_s") == exact.metrics.at("ref_s"));
  RunContext uncached = quiet_context(0);
  auto fresh = run_table(text, uncached, dir / "runs2");
  CHECK(counter(fresh.at("Exact"), "reference_solves") == 1);
}

TEST_CASE("mask_quality suite: heavy-tailed random matrices, the same numbers for the same seed",
          "[suites][mask_quality]") {
  const std::string text = table_text("matrices = \"random\"\nshapes = [\"32x64\", \"64x32\"]\ndf = 3");
  test::TempDir dir;
  RunContext ctx = quiet_context(0);
  auto a = run_table(text, ctx, dir / "a");
  REQUIRE(a.size() == 3);
  for (const auto& [label, r] : a) {
    INFO(label << ": " << r.error_message);
    REQUIRE(r.ok());
    CHECK(r.details.at("matrices").size() == 2);
  }
  CHECK(a.at("Exact").metrics.at("rel_gap") == 0.0);
  CHECK(a.at("Exact").metrics.at("feasible") == 100.0);
  CHECK(a.at("Top-2").metrics.at("rel_gap") < 0.0);  // the row-wise relaxation keeps more
  CHECK(a.at("Top-2").metrics.at("feasible") < 100.0);
  CHECK(a.at("Top-2").metrics.at("row_feasible") == 100.0);
  CHECK(a.at("Fixed").metrics.at("rel_gap") > 0.0);
  CHECK(a.at("Fixed").metrics.at("pruned_gap") > a.at("Fixed").metrics.at("rel_gap"));  // pruned score < kept
  CHECK(a.at("Fixed").metrics.at("feasible") == 100.0);

  RunContext same = quiet_context(0);
  auto b = run_table(text, same, dir / "b");
  RunContext other = quiet_context(1);
  auto c = run_table(text, other, dir / "c");
  for (const char* label : {"Top-2", "Fixed"})
    for (const char* m : {"rel_gap", "pruned_gap", "feasible"}) {
      INFO(label << " " << m);
      CHECK(a.at(label).metrics.at(m) == b.at(label).metrics.at(m));
    }
  CHECK(a.at("Fixed").metrics.at("rel_gap") != c.at("Fixed").metrics.at("rel_gap"));

  // The entries are |t| with 3 degrees of freedom: heavy tails (a N(0,1) has kurtosis 3).
  at::Tensor t = student_t_magnitudes(256, 256, 3.0, 7);
  CHECK(t.min().item<float>() >= 0.0f);
  CHECK(at::equal(t, student_t_magnitudes(256, 256, 3.0, 7)));
  CHECK(t.max().item<float>() > 10.0f);
}

TEST_CASE("mask_quality suite: every linear weight of zoo:micro, in layer order", "[suites][mask_quality]") {
  test::TempDir dir;
  RunContext ctx = quiet_context(0);
  auto recs = run_table(table_text("matrices = \"model\"\nmodel = \"zoo:micro\""), ctx, dir / "runs");
  const Record& topk = recs.at("Top-2");
  INFO(topk.error_message);
  REQUIRE(topk.ok());
  const auto& m = topk.details.at("matrices");
  REQUIRE(m.size() == 14);  // 2 layers x (q, k, v, o, gate, up, down)
  CHECK(m[0].at("name") == "model.layers.0.mlp.down_proj.weight");
  CHECK(m[13].at("name") == "model.layers.1.self_attn.v_proj.weight");
  CHECK(topk.metrics.at("rel_gap") < 0.0);
  CHECK(recs.at("Exact").metrics.at("rel_gap") == 0.0);
  CHECK(natural_less("model.layers.2.x", "model.layers.10.x"));
  CHECK_FALSE(natural_less("model.layers.10.x", "model.layers.2.x"));
}

TEST_CASE("mask_quality suite: a matrix the pattern does not tile fails its row, naming the matrix",
          "[suites][mask_quality]") {
  test::TempDir dir;
  RunContext ctx = quiet_context(0);
  auto random = run_table(table_text("matrices = \"random\"\nshapes = [\"32x64\", \"32x66\"]"), ctx, dir / "a");
  for (const auto& [label, r] : random) {
    INFO(label);
    CHECK_FALSE(r.ok());
    CHECK(r.error_type == "ConfigError");
    CHECK(r.error_message.find("matrix 'random[1] 32x66' (32x66) is not tiled by the 4x4 blocks of 2:4") !=
          std::string::npos);
  }
  save_safetensors(dir / "b.safetensors", {{"fine", at::ones({8, 8})}, {"odd", at::ones({6, 8})}});
  auto file = run_table(table_text("matrices = \"safetensors\"\nfile = \"" + (dir / "b.safetensors").string() + "\""),
                        ctx, dir / "b");
  const Record& r = file.at("Top-2");
  CHECK(r.error_type == "NotSupported");
  CHECK(r.error_message.find("matrix 'odd' (6x8)") != std::string::npos);
}
