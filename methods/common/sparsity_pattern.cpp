#include "methods/common/sparsity_pattern.h"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "core/error.h"
#include "core/strings.h"
#include "methods/common/mask_solver.h"
#include "methods/common/topk.h"

namespace repro {

namespace {
bool parse_int(std::string_view s, int& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}
}  // namespace

SparsityPattern SparsityPattern::parse(const std::string& text) {
  SparsityPattern p;
  std::string t = trim(text);
  if (t == "unstructured") return p;
  auto colon = t.find(':');
  if (colon != std::string::npos && parse_int(std::string_view(t).substr(0, colon), p.n) &&
      parse_int(std::string_view(t).substr(colon + 1), p.m) && p.n > 0 && p.n < p.m) {
    p.nm = true;
    return p;
  }
  throw ConfigError(fmt::format("sparsity pattern '{}' is neither 'unstructured' nor 'N:M' with 0 < N < M (e.g. '2:4')",
                                text));
}

std::string SparsityPattern::str() const { return nm ? fmt::format("{}:{}", n, m) : "unstructured"; }

double SparsitySpec::effective_sparsity() const {
  return pattern.nm ? 1.0 - static_cast<double>(pattern.n) / pattern.m : sparsity;
}

std::vector<ParamSpec> sparsity_params(double default_sparsity) {
  return {
      param_float("sparsity", default_sparsity, "fraction of weights pruned (unstructured patterns only)")
          .at_least(0)
          .below(1),
      param_string("pattern", "unstructured", "'unstructured' or 'N:M' (keep N of every M input columns, e.g. 2:4)"),
      param_component("mask_solver", MaskSolver::kFamily, kDefaultMaskSolver,
                      "the MaskSolver that picks N:M masks (topk, or e.g. { method = \"tsenor\", ... })"),
      param_bool("transposable", false,
                 "N:M masks that are also N:M along the output rows of every M x M block, so W^T is N:M too "
                 "(needs a transposable mask_solver: tsenor, exact_transposable, greedy_transposable)")
          .quiet_at_default(),
  };
}

SparsitySpec sparsity_pattern(const Params& params) {
  SparsitySpec s;
  s.sparsity = params.get_float("sparsity");
  try {
    s.pattern = SparsityPattern::parse(params.get_string("pattern"));
  } catch (const ConfigError& e) {
    params.fail("pattern", e.what());
  }
  const ComponentParams& solver = params.get_component("mask_solver");
  s.mask_solver = solver.canonical();
  s.solver = Registry<MaskSolver>::instance().create(solver);
  s.transposable = params.get_bool("transposable");
  if (s.transposable && !s.pattern.nm)
    params.fail("transposable", fmt::format("transposable masks need an N:M pattern (pattern = '{}')", s.pattern.str()));
  if (s.pattern.nm && s.transposable != s.solver->transposable()) {
    const std::string& name = s.solver->info().name;
    if (s.transposable)
      params.fail("transposable", fmt::format("mask_solver '{}' picks row-wise N:M masks; transposable masks need a "
                                              "transposable solver (tsenor, exact_transposable, greedy_transposable)",
                                              name));
    params.fail("mask_solver", fmt::format("mask_solver '{}' picks transposable masks: set transposable = true "
                                           "(or use a row-wise solver such as topk)",
                                           name));
  }
  return s;
}

void check_pattern_fits(const SparsitySpec& spec, int64_t out, int64_t in, const std::string& layer) {
  if (spec.pattern.nm && in % spec.pattern.m != 0)
    throw NotSupported(fmt::format("layer '{}': {} sparsity needs the input width ({}) to be a multiple of {}", layer,
                                   spec.pattern.str(), in, spec.pattern.m));
  if (spec.transposable && out % spec.pattern.m != 0)
    throw NotSupported(fmt::format("layer '{}': transposable {} sparsity needs the output width ({}) to be a multiple "
                                   "of {}",
                                   layer, spec.pattern.str(), out, spec.pattern.m));
}

at::Tensor select_mask(const at::Tensor& scores, const SparsitySpec& spec, UnstructuredScope scope, RunContext& ctx) {
  REPRO_ASSERT(scores.dim() == 2, "select_mask: scores must be [out, in]");
  if (spec.pattern.nm) return solve_mask(*spec.solver, scores, spec.pattern.nm_pattern(), ctx);
  if (scope == UnstructuredScope::Layer) return topk_mask(scores, keep_count(scores.numel(), spec.sparsity));
  const int64_t in = scores.size(1);
  const int64_t pruned = static_cast<int64_t>(std::floor(static_cast<double>(in) * spec.sparsity));
  return row_topk_mask(scores, in - pruned);
}

}  // namespace repro
