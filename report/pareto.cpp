#include "report/pareto.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace repro::report {

std::vector<size_t> pareto_front(const std::vector<Point>& points, Better x_better, Better y_better, double tie) {
  if (x_better == Better::None || y_better == Better::None)
    throw ConfigError("a Pareto front needs a direction (lower or higher) on both axes");
  // Compare in "lower is better" coordinates.
  const double sx = x_better == Better::Lower ? 1.0 : -1.0;
  const double sy = y_better == Better::Lower ? 1.0 : -1.0;
  auto same = [&](double a, double b) { return std::abs(a - b) <= tie * std::max(std::abs(a), std::abs(b)); };
  std::vector<size_t> front;
  for (size_t i = 0; i < points.size(); ++i) {
    const Point& p = points[i];
    if (std::isnan(p.x) || std::isnan(p.y)) continue;
    bool dominated = false;
    for (size_t j = 0; j < points.size() && !dominated; ++j) {
      const Point& q = points[j];
      if (j == i || std::isnan(q.x) || std::isnan(q.y)) continue;
      const double qx = sx * q.x, qy = sy * q.y, px = sx * p.x, py = sy * p.y;
      const bool x_same = same(qx, px), y_same = same(qy, py);
      dominated = (qx <= px || x_same) && (qy <= py || y_same) && ((qx < px && !x_same) || (qy < py && !y_same));
    }
    if (!dominated) front.push_back(i);
  }
  std::stable_sort(front.begin(), front.end(), [&](size_t a, size_t b) { return points[a].x < points[b].x; });
  return front;
}

}  // namespace repro::report
