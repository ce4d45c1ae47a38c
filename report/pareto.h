#pragma once
// Pareto fronts of (x, y) operating points, e.g. bits per weight vs perplexity.

#include <cstddef>
#include <string>
#include <vector>

#include "core/suite.h"

namespace repro::report {

struct Point {
  double x = 0, y = 0;
  std::string label;   // the row's display label: "RTN g128 [bits=3]"
  bool paper = false;  // a paper number rather than ours
  std::string tag;     // the row's sweep values, "bits=3" ("" for a row without a sweep)
};

// Indices of the non-dominated points, sorted by x (ascending; equal x keeps input order).
// A point is dominated when another is at least as good on both axes and strictly better on one;
// equal duplicates do not dominate each other, so both are kept. Points with a NaN coordinate are
// skipped. Both directions must be Lower or Higher (Better::None -> ConfigError).
// `tie`: coordinates within this relative difference count as equal (1e-4: a pruner that keeps
// 0.29999 of the weights is not on the front for that against one that keeps 0.3).
std::vector<size_t> pareto_front(const std::vector<Point>& points, Better x_better, Better y_better,
                                 double tie = 0.0);

}  // namespace repro::report
