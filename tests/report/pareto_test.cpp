// Pareto fronts on hand-made points.

#include <cmath>

#include "core/error.h"
#include "report/pareto.h"
#include "tests/catch.h"

using namespace repro;
using namespace repro::report;

namespace {

Point pt(double x, double y) { return {x, y, "", false, ""}; }

}  // namespace

TEST_CASE("pareto_front keeps the non-dominated points, sorted by x", "[report][pareto]") {
  // x: bits (lower better), y: perplexity (lower better).
  std::vector<Point> pts = {pt(4, 10), pt(2, 30), pt(3, 12), pt(3, 15), pt(5, 10), pt(16, 9)};
  // (3,15) is dominated by (3,12); (5,10) by (4,10).
  CHECK(pareto_front(pts, Better::Lower, Better::Lower) == std::vector<size_t>{1, 2, 0, 5});
}

TEST_CASE("pareto_front honours each axis' direction", "[report][pareto]") {
  std::vector<Point> pts = {pt(1, 1), pt(2, 2), pt(3, 1)};
  CHECK(pareto_front(pts, Better::Lower, Better::Lower) == std::vector<size_t>{0});
  CHECK(pareto_front(pts, Better::Higher, Better::Higher) == std::vector<size_t>{1, 2});
  CHECK(pareto_front(pts, Better::Lower, Better::Higher) == std::vector<size_t>{0, 1});
  CHECK(pareto_front(pts, Better::Higher, Better::Lower) == std::vector<size_t>{2});
}

TEST_CASE("pareto_front keeps equal duplicates and skips NaN", "[report][pareto]") {
  std::vector<Point> pts = {pt(2, 5), pt(1, std::nan("")), pt(2, 5), pt(std::nan(""), 0), pt(3, 6)};
  CHECK(pareto_front(pts, Better::Lower, Better::Lower) == std::vector<size_t>{0, 2});
  // A point equal on x but worse on y is dominated.
  CHECK(pareto_front({pt(2, 5), pt(2, 6)}, Better::Lower, Better::Lower) == std::vector<size_t>{0});
  CHECK(pareto_front({}, Better::Lower, Better::Lower).empty());
  CHECK(pareto_front({pt(std::nan(""), 1)}, Better::Lower, Better::Lower).empty());
}

TEST_CASE("pareto_front needs both directions", "[report][pareto]") {
  CHECK_THROWS_AS(pareto_front({pt(1, 1)}, Better::None, Better::Lower), ConfigError);
}

TEST_CASE("pareto_front: near-equal coordinates count as ties with a tolerance", "[report][pareto]") {
  // params_kept vs perplexity: SparseGPT keeps 0.299993 of the weights, ALPS 0.299998.
  std::vector<Point> pts = {pt(0.299993, 77.2), pt(0.299998, 72.3), pt(0.4, 70.5), pt(0.4999994, 70.4),
                            pt(0.5, 69.8)};
  CHECK(pareto_front(pts, Better::Lower, Better::Lower) == std::vector<size_t>{0, 1, 2, 3, 4});
  CHECK(pareto_front(pts, Better::Lower, Better::Lower, 1e-4) == std::vector<size_t>{1, 2, 4});
  // A real difference is kept: 0.302 is not within 1e-4 of 0.3.
  CHECK(pareto_front({pt(0.3, 72), pt(0.302, 70)}, Better::Lower, Better::Lower, 1e-4) ==
        std::vector<size_t>{0, 1});
  // Ties on both axes: neither dominates.
  CHECK(pareto_front({pt(0.3, 72), pt(0.30000001, 72.000001)}, Better::Lower, Better::Lower, 1e-4) ==
        std::vector<size_t>{0, 1});
}
