#pragma once
// What the mask_quality suite measures of one N:M mask: the score it keeps, and how feasible it is
// row-wise (N of every M consecutive input columns of a row) and transposably (N in every row and
// every column of each M x M block, so that W and W^T are both N:M).

#include <cstdint>

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include "methods/api/mask_solver.h"

namespace repro {

struct MaskStats {
  double objective = 0;         // sum of the kept scores
  int64_t blocks = 0;           // M x M blocks
  int64_t feasible_blocks = 0;  // blocks keeping exactly N in every row and in every column
  int64_t groups = 0;           // groups of M consecutive input columns of a row
  int64_t exact_groups = 0;     // groups keeping exactly N
  int64_t over_groups = 0;      // groups keeping more than N (the objective is then not comparable)

  // Pools the counts and adds the objectives (masks of several matrices).
  MaskStats& operator+=(const MaskStats& other);
  double feasible_percent() const;      // 100 feasible_blocks / blocks
  double row_feasible_percent() const;  // 100 exact_groups / groups

  nlohmann::json to_json() const;
  // DataError naming `origin` when a field is missing or of the wrong type.
  static MaskStats from_json(const nlohmann::json& j, const std::string& origin);
};

// scores: [R, C] fp32, mask: [R, C] bool, same device, with R % m == 0 and C % m == 0 (asserted).
// The objective sums each row in fp32 and the row sums in fp64: the same mask always gives the
// same number, so a solver compared with itself has a gap of exactly 0.
MaskStats measure_mask(const at::Tensor& scores, const at::Tensor& mask, NMPattern pattern);

// The sum of every score, accumulated as measure_mask's objective. scores: [R, C] fp32, any device.
double score_total(const at::Tensor& scores);

// 100 (opt - obj) / opt: the share of the reference's kept score that a mask loses (negative when
// it keeps more, which only a mask outside the reference's constraints can). 0 when opt == obj;
// NaN when opt == 0 != obj.
double relative_gap_percent(double opt, double obj);
// 100 (opt - obj) / (total - opt): the same loss over the score the reference prunes. 0 when
// opt == obj; NaN when total == opt != obj.
double pruned_gap_percent(double opt, double obj, double total);

}  // namespace repro
