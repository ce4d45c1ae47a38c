#include "suites/mask_quality/mask_stats.h"

#include <cmath>
#include <limits>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "core/error.h"

namespace repro {

MaskStats& MaskStats::operator+=(const MaskStats& o) {
  objective += o.objective;
  blocks += o.blocks;
  feasible_blocks += o.feasible_blocks;
  groups += o.groups;
  exact_groups += o.exact_groups;
  over_groups += o.over_groups;
  return *this;
}

double MaskStats::feasible_percent() const {
  return blocks > 0 ? 100.0 * static_cast<double>(feasible_blocks) / static_cast<double>(blocks) : 0.0;
}

double MaskStats::row_feasible_percent() const {
  return groups > 0 ? 100.0 * static_cast<double>(exact_groups) / static_cast<double>(groups) : 0.0;
}

nlohmann::json MaskStats::to_json() const {
  return {{"objective", objective}, {"blocks", blocks},           {"feasible_blocks", feasible_blocks},
          {"groups", groups},       {"exact_groups", exact_groups}, {"over_groups", over_groups}};
}

MaskStats MaskStats::from_json(const nlohmann::json& j, const std::string& origin) {
  try {
    MaskStats s;
    s.objective = j.at("objective").get<double>();
    s.blocks = j.at("blocks").get<int64_t>();
    s.feasible_blocks = j.at("feasible_blocks").get<int64_t>();
    s.groups = j.at("groups").get<int64_t>();
    s.exact_groups = j.at("exact_groups").get<int64_t>();
    s.over_groups = j.at("over_groups").get<int64_t>();
    return s;
  } catch (const nlohmann::json::exception& e) {
    throw DataError(fmt::format("{}: not a mask measurement ({})", origin, e.what()));
  }
}

namespace {

// Row sums in fp32, their sum in fp64. x: [R, C] fp32.
double row_then_total(const at::Tensor& x) { return x.sum(1).to(at::kDouble).sum().item<double>(); }

}  // namespace

MaskStats measure_mask(const at::Tensor& scores, const at::Tensor& mask, NMPattern pattern) {
  REPRO_ASSERT(scores.dim() == 2 && mask.sizes() == scores.sizes() && mask.scalar_type() == at::kBool,
               "measure_mask: scores [R, C] and a bool mask of the same shape");
  const int64_t R = scores.size(0), C = scores.size(1), m = pattern.m;
  REPRO_ASSERT(R % m == 0 && C % m == 0, fmt::format("measure_mask: {}x{} is not tiled by {}x{} blocks", R, C, m, m));
  MaskStats s;
  s.objective = row_then_total(scores * mask);
  // [R/m, m, C/m, m]: block (bi, bj) holds rows bi*m.. and columns bj*m..
  at::Tensor b = mask.reshape({R / m, m, C / m, m});
  at::Tensor row_counts = b.sum(3);  // [R/m, m, C/m]: each row's kept count in each block = its group's
  at::Tensor col_counts = b.sum(1);  // [R/m, C/m, m]
  at::Tensor rows_ok = row_counts.eq(pattern.n).all(1);  // [R/m, C/m]
  at::Tensor cols_ok = col_counts.eq(pattern.n).all(2);  // [R/m, C/m]
  s.blocks = (R / m) * (C / m);
  s.feasible_blocks = rows_ok.logical_and(cols_ok).sum().item<int64_t>();
  s.groups = R * (C / m);
  s.exact_groups = row_counts.eq(pattern.n).sum().item<int64_t>();
  s.over_groups = row_counts.gt(pattern.n).sum().item<int64_t>();
  return s;
}

double score_total(const at::Tensor& scores) {
  REPRO_ASSERT(scores.dim() == 2, "score_total: scores must be [R, C]");
  return row_then_total(scores);
}

double relative_gap_percent(double opt, double obj) {
  if (opt == obj) return 0.0;
  if (opt == 0.0) return std::numeric_limits<double>::quiet_NaN();
  return 100.0 * (opt - obj) / opt;
}

double pruned_gap_percent(double opt, double obj, double total) {
  if (opt == obj) return 0.0;
  if (total == opt) return std::numeric_limits<double>::quiet_NaN();
  return 100.0 * (opt - obj) / (total - opt);
}

}  // namespace repro
