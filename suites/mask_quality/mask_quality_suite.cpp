// The mask_quality suite: how close an N:M mask solver comes to a reference solver's kept score, how
// long it takes, and whether its masks are feasible, row-wise and transposably. A row is one
// MaskSolver (slot `solver`) at one pattern; the suite parameter `reference` names the solver every
// gap is measured against (default: the exact min-cost-flow solver for transposable masks).
//
// The matrices are every linear weight of a model scored by magnitude, every 2-D tensor of a
// .safetensors file, or heavy-tailed random matrices (|Student-t|) at given shapes, seeded from the
// row's seed. The reference's result on each (matrix, pattern) is computed once per table run and
// kept on disk for later runs (reference_cache.h). Definitions of the metrics: README.md here.

#include <fmt/format.h>
#include <ATen/ATen.h>
#include <c10/core/DeviceType.h>
#include <spdlog/spdlog.h>

#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/hash.h"
#include "core/run_context.h"
#include "core/strings.h"
#include "core/suite_registry.h"
#include "core/table_spec.h"
#include "core/timing.h"
#include "methods/api/mask_solver.h"
#include "methods/common/sparsity_pattern.h"
#include "suites/eval/model_identity.h"
#include "suites/mask_quality/mask_stats.h"
#include "suites/mask_quality/reference_cache.h"
#include "suites/mask_quality/score_matrices.h"

namespace repro {
namespace {

namespace fs = std::filesystem;

// Bumped when what a cached reference result means changes (the measurement, the key's parts).
constexpr const char* kReferenceCacheTag = "mask_quality.reference/1";

// The linear weights of a Hugging Face decoder: 2-D tensors of its decoder layers (attention and
// MLP projections); embeddings and the LM head are left out, as the pruning papers leave them dense.
bool is_decoder_linear(const std::string& name) { return starts_with(name, "model.layers.") && ends_with(name, ".weight"); }

// "tsenor(iters=300)" plus "tsenor@1,..." (its version and those of its components): two solvers
// with the same identity compute the same masks.
std::string solver_identity(const std::string& canonical, const std::vector<std::string>& versions) {
  return canonical + " " + join(versions, ",");
}

std::string row_solver_identity(const Component& c) {
  std::vector<std::string> versions = {c.method + "@" + c.info->version};
  for (const auto& v : c.params.component_versions()) versions.push_back(v);
  return solver_identity(c.canonical(), versions);
}

// One timed solve: the mask's measurement and the solver's wall time (device work included).
ReferenceResult timed_solve(MaskSolver& solver, const at::Tensor& scores, NMPattern pattern, RunContext& ctx,
                            const std::string& phase) {
  ctx.synchronize();
  Stopwatch w;
  at::Tensor mask;
  {
    auto t = ctx.timer().scope(phase);
    mask = solver.solve(scores, pattern, ctx);
    ctx.synchronize();
  }
  const double seconds = w.seconds();
  const std::string& name = solver.info().name;
  REPRO_ASSERT(mask.defined() && mask.sizes() == scores.sizes(),
               fmt::format("mask solver '{}' returned a mask of the wrong shape", name));
  return {measure_mask(scores, mask.to(at::kBool), pattern), seconds};
}

class MaskQualitySuite : public Suite {
 public:
  static const SuiteInfo& static_info() {
    static const SuiteInfo info = [] {
      SuiteInfo i;
      i.name = "mask_quality";
      i.family = Suite::kFamily;
      i.summary = "N:M mask solvers against a reference solver: kept-score gap, wall time, row-wise and "
                  "transposable feasibility";
      i.version = "1";
      i.params = {
          param_string("matrices", "model",
                       "'model' (every linear weight of `model`), 'safetensors' (every 2-D tensor of `file`) or "
                       "'random' (|Student-t(df)| matrices at `shapes`, from the row's seed)",
                       {"model", "safetensors", "random"}),
          param_string("model", "zoo:tiny", "matrices = 'model': zoo:<name> or a Hugging Face model folder"),
          param_string("file", "", "matrices = 'safetensors': the .safetensors file"),
          param_int("max_matrices", 0, "model / safetensors: only the first this many, in name order (0: all)")
              .at_least(0),
          param_string("score", "magnitude", "model / safetensors: the score of a weight W (magnitude: |W|)",
                       {"magnitude"}),
          param_list("shapes", ParamType::StringList, {Value("4096x4096"), Value("4096x14336")},
                     "matrices = 'random': one matrix per 'ROWSxCOLS' (default: Llama-3-8B's q_proj and down_proj)"),
          param_float("df", 3.0, "matrices = 'random': degrees of freedom of the Student-t entries").above(0),
          param_int("shape_scale", 1, "matrices = 'random': divide every dimension by this (1: the shapes as given)")
              .at_least(1),
          param_string("pattern", "2:4", "the N:M pattern (N of every M; transposable: per row and column of M x M blocks)"),
          param_component("reference", MaskSolver::kFamily, "exact_transposable",
                          "the solver every gap is measured against (its results are cached)"),
      };
      i.slots = {{"solver", MaskSolver::kFamily, false, "the mask solver measured"}};
      i.metrics = {
          {"rel_gap", Better::Lower,
           "mean over matrices of 100 (opt - obj) / opt, obj / opt = kept score of the solver / the reference (%)", 4},
          {"pruned_gap", Better::Lower,
           "mean over matrices of 100 (opt - obj) / (total - opt): the loss over the reference's pruned score (%)", 4},
          {"time_s", Better::Lower, "seconds in the solver, summed over the matrices", 4},
          {"ref_s", Better::None, "seconds in the reference solver, summed over the matrices (as first measured)", 4},
          {"speedup", Better::Higher, "ref_s / time_s", 4},
          {"feasible", Better::Higher, "% of M x M blocks keeping exactly N in every row and every column", 4},
          {"row_feasible", Better::Higher, "% of row groups (M consecutive input columns) keeping exactly N", 4},
      };
      return i;
    }();
    return info;
  }
  const SuiteInfo& info() const override { return static_info(); }

  nlohmann::json fingerprint(const RowSpec& row, RunContext&) override {
    const Params& p = row.suite_params;
    nlohmann::json out;
    const std::string& kind = p.get_string("matrices");
    if (kind == "model") {
      out["model"] = model_identity(p.get_string("model"));
    } else if (kind == "safetensors") {
      const std::string& file = checked_file(p);
      out["model"] = {{"name", file}, {"sha256", sha256_file(file)}};
    } else {
      out["model"] = {{"name", fmt::format("|student_t(df={})| {} / {}", p.get_float("df"),
                                           join(p.get_string_list("shapes"), ","), p.get_int("shape_scale"))}};
    }
    out["data"] = {{"scores", kind == "random" ? std::string("random") : p.get_string("score")}};
    // The driver's key covers the row's components, not the suite's: the reference's versions go here.
    out["reference"] = p.get_component("reference").versions();
    return out;
  }

  Record run_row(const RowSpec& row, RunContext& ctx) override {
    const Params& p = row.suite_params;
    const NMPattern pattern = parse_pattern(p);
    const Component* c = row.first("solver");
    if (!c) throw ConfigError(fmt::format("row '{}': the mask_quality suite needs a solver", row.display));
    std::unique_ptr<MaskSolver> solver = Registry<MaskSolver>::instance().create(c->method);
    solver->configure(c->params);
    const ComponentParams& ref = p.get_component("reference");
    const std::string ref_identity = solver_identity(ref.canonical(), ref.versions());
    // The reference's own row: its result is the reference result (computed once, for both).
    const bool is_reference = row_solver_identity(*c) == ref_identity;
    std::unique_ptr<MaskSolver> ref_solver;  // created on the first cache miss

    std::vector<ScoreMatrix> matrices;
    {
      auto t = ctx.timer().scope("load");
      matrices = describe_matrices(p, ctx);
    }
    if (matrices.empty())
      throw DataError(fmt::format("row '{}': no matrix to solve ({} has no 2-D tensor{})", row.display,
                                  p.get_string("matrices") == "model" ? p.get_string("model") : p.get_string("file"),
                                  p.get_string("matrices") == "model" ? " under model.layers." : ""));
    for (const auto& m : matrices) check_fits(p, m, pattern);

    const fs::path cache_dir =
        ctx.options().cache_dir.empty() ? fs::path() : ctx.options().cache_dir / "mask_reference";
    const std::string pattern_text = fmt::format("{}:{}", pattern.n, pattern.m);
    auto bar = ctx.progress(fmt::format("mask_quality {}", row.display), static_cast<int64_t>(matrices.size()));
    double rel_sum = 0, pruned_sum = 0, time_s = 0, ref_s = 0;
    MaskStats pooled;
    nlohmann::json per_matrix = nlohmann::json::array();
    for (size_t k = 0; k < matrices.size(); ++k) {
      const ScoreMatrix& m = matrices[k];
      at::Tensor scores;
      {
        auto t = ctx.timer().scope("load");
        scores = m.load().to(ctx.device());
      }
      REPRO_ASSERT(scores.dim() == 2 && scores.size(0) == m.rows && scores.size(1) == m.cols,
                   "matrix '" + m.name + "' loaded with another shape than described");
      const double total = score_total(scores);
      const std::string key = ReferenceCache::make_key(
          {kReferenceCacheTag, ref_identity, m.identity, pattern_text, c10::DeviceTypeName(ctx.device().type(), /*lower_case=*/true)});

      std::string ref_from = "computed";
      std::optional<ReferenceResult> ref_result;
      if (auto hit = cache_.find(key, cache_dir)) {
        const bool memory = hit->source == ReferenceCache::Source::Memory;
        ref_result = hit->result;
        ref_from = memory ? "memory" : "disk";
        ctx.count(memory ? "reference_memory_hits" : "reference_disk_hits");
      }
      const bool computed = !ref_result;
      ReferenceResult ours;
      if (is_reference) {
        if (!ref_result) ref_result = timed_solve(*solver, scores, pattern, ctx, "solve");
        ours = *ref_result;
      } else {
        if (!ref_result) {
          if (!ref_solver) ref_solver = Registry<MaskSolver>::instance().create(ref);
          spdlog::info("mask_quality: reference {} on {} ({}x{}, {})...", ref.canonical(), m.name, m.rows, m.cols,
                       pattern_text);
          ref_result = timed_solve(*ref_solver, scores, pattern, ctx, "reference");
        }
        ours = timed_solve(*solver, scores, pattern, ctx, "solve");
      }
      if (computed) {
        ctx.count("reference_solves");
        cache_.put(key, *ref_result,
                   {{"reference", ref.canonical()}, {"matrix", m.name}, {"identity", m.identity},
                    {"shape", {m.rows, m.cols}}, {"pattern", pattern_text},
                    {"device", c10::DeviceTypeName(ctx.device().type(), /*lower_case=*/true)}},
                   cache_dir);
      }

      const double opt = ref_result->stats.objective, obj = ours.stats.objective;
      const double rel = relative_gap_percent(opt, obj), pruned = pruned_gap_percent(opt, obj, total);
      rel_sum += rel;
      pruned_sum += pruned;
      time_s += ours.seconds;
      ref_s += ref_result->seconds;
      pooled += ours.stats;
      if (ours.stats.over_groups > 0)
        spdlog::warn("mask_quality: {} keeps more than {} of {} in {} groups of {}: its gap is not comparable",
                     row.display, pattern.n, pattern.m, ours.stats.over_groups, m.name);
      per_matrix.push_back({{"name", m.name},
                            {"shape", {m.rows, m.cols}},
                            {"total", total},
                            {"stats", ours.stats.to_json()},
                            {"reference_stats", ref_result->stats.to_json()},
                            {"rel_gap", rel},
                            {"pruned_gap", pruned},
                            {"seconds", ours.seconds},
                            {"reference_seconds", ref_result->seconds},
                            {"reference_from", ref_from}});
      spdlog::info("mask_quality: {} {}/{} {} {}x{}: {:.3f} s, gap {:.4f}% ({:.4f}% of pruned), feasible {:.2f}%; "
                   "reference {:.3f} s ({})",
                   row.display, k + 1, matrices.size(), m.name, m.rows, m.cols, ours.seconds, rel, pruned,
                   ours.stats.feasible_percent(), ref_result->seconds, ref_from);
      bar->advance();
    }
    bar->finish();

    const double n = static_cast<double>(matrices.size());
    Record rec;
    rec.metrics["rel_gap"] = rel_sum / n;
    rec.metrics["pruned_gap"] = pruned_sum / n;
    rec.metrics["time_s"] = time_s;
    rec.metrics["ref_s"] = ref_s;
    rec.metrics["speedup"] = time_s > 0 ? ref_s / time_s : std::numeric_limits<double>::quiet_NaN();
    rec.metrics["feasible"] = pooled.feasible_percent();
    rec.metrics["row_feasible"] = pooled.row_feasible_percent();
    rec.details["matrices"] = per_matrix;
    rec.details["pattern"] = pattern_text;
    rec.details["reference"] = ref.canonical();
    rec.details["pooled"] = pooled.to_json();
    return rec;
  }

 private:
  static const std::string& checked_file(const Params& p) {
    const std::string& file = p.get_string("file");
    if (file.empty()) p.fail("file", "matrices = 'safetensors' needs `file` (a .safetensors path)");
    return file;
  }

  static NMPattern parse_pattern(const Params& p) {
    SparsityPattern s;
    try {
      s = SparsityPattern::parse(p.get_string("pattern"));
    } catch (const ConfigError& e) {
      p.fail("pattern", e.what());
    }
    if (!s.nm) p.fail("pattern", "must be an N:M pattern (e.g. '2:4'), not 'unstructured'");
    return s.nm_pattern();
  }

  // Blocks are M x M, so M must divide both dimensions. Random shapes come from the config
  // (ConfigError naming the key); a model's or file's tensors do not (NotSupported naming the tensor).
  static void check_fits(const Params& p, const ScoreMatrix& m, NMPattern pattern) {
    if (m.rows % pattern.m == 0 && m.cols % pattern.m == 0) return;
    const std::string what = fmt::format("matrix '{}' ({}x{}) is not tiled by the {}x{} blocks of {}:{}: both "
                                         "dimensions must be multiples of {}",
                                         m.name, m.rows, m.cols, pattern.m, pattern.m, pattern.n, pattern.m, pattern.m);
    if (p.get_string("matrices") == "random") p.fail("shapes", what);
    throw NotSupported(what);
  }

  static std::vector<ScoreMatrix> describe_matrices(const Params& p, RunContext& ctx) {
    const std::string& kind = p.get_string("matrices");
    if (kind == "model") {
      const nlohmann::json id = model_identity(p.get_string("model"));
      return checkpoint_matrices(id.at("path").get<std::string>(), id.at("sha256").get<std::string>(),
                                 is_decoder_linear, p.get_string("score"), p.get_int("max_matrices"));
    }
    if (kind == "safetensors") {
      const std::string& file = checked_file(p);
      return checkpoint_matrices(file, sha256_file(file), [](const std::string&) { return true; },
                                 p.get_string("score"), p.get_int("max_matrices"));
    }
    const int64_t scale = p.get_int("shape_scale");
    const double df = p.get_float("df");
    std::vector<ScoreMatrix> out;
    const auto shapes = p.get_string_list("shapes");
    if (shapes.empty()) p.fail("shapes", "matrices = 'random' needs at least one 'ROWSxCOLS' shape");
    for (size_t i = 0; i < shapes.size(); ++i) {
      auto shape = parse_shape(shapes[i]);
      if (!shape) p.fail("shapes", fmt::format("'{}' is not 'ROWSxCOLS' (e.g. '4096x14336')", shapes[i]));
      if (shape->first % scale != 0 || shape->second % scale != 0)
        p.fail("shape_scale", fmt::format("{} does not divide shape '{}'", scale, shapes[i]));
      ScoreMatrix m;
      m.rows = shape->first / scale;
      m.cols = shape->second / scale;
      m.name = fmt::format("random[{}] {}x{}", i, m.rows, m.cols);
      // Each matrix its own stream: adding a shape does not change the others.
      const uint64_t seed = ctx.component_seed(fmt::format("mask_quality.random[{}].{}x{}", i, m.rows, m.cols));
      m.identity = fmt::format("|student_t(df={:.17g})| {}x{} seed={}", df, m.rows, m.cols, seed);
      m.load = [rows = m.rows, cols = m.cols, df, seed] { return student_t_magnitudes(rows, cols, df, seed); };
      out.push_back(std::move(m));
    }
    return out;
  }

  ReferenceCache cache_;  // lives as long as the table driver's suite instance: the whole table run
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_SUITE(repro::MaskQualitySuite);
