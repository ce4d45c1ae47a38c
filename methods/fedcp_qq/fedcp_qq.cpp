// fedcp_qq: one-shot federated conformal prediction by a quantile of quantiles (Humbert, Le Bars,
// Bellet, Arlot, ICML 2023, arXiv 2302.02113). Each of the m clients sends the l-th smallest of its
// n scores; the server takes the k-th smallest of the m local quantiles. Exact order statistics.
//
// Choice of (l, k): for iid continuous scores the coverage of the estimator is distribution-free,
//   P(V_test <= QQ) = E[U_QQ] = integral_0^1 P(Bin(m, F_l(t)) <= k - 1) dt,
//   F_l(t) = P(Bin(n, t) >= l)   (the l-th of n uniforms is <= t),
// (the "Beta-Beta" law of their analysis). We take, among all pairs with coverage >= 1 - alpha,
// the one with the smallest coverage (the tightest valid pair); ties are broken by smaller k. The
// official code tabulates the same coverage over the (l, k) grid (class_CP_QQ.py, calc_matrix_M,
// rank-based and exact with ties); this quadrature is its continuous-score form. See README.md.

#include <cmath>
#include <limits>
#include <map>
#include <tuple>
#include <vector>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "core/error.h"
#include "methods/api/conformal_method.h"
#include "methods/common/conformal_scores.h"
#include "methods/fedcp_qq/fedcp_qq.h"

namespace repro {

// P(Bin(n, p) >= l).
double binomial_upper_tail(int64_t n, double p, int64_t l) {
  if (l <= 0) return 1.0;
  if (l > n) return 0.0;
  if (p <= 0) return 0.0;
  if (p >= 1) return 1.0;
  const double lp = std::log(p), lq = std::log1p(-p);
  const double lgn = std::lgamma(static_cast<double>(n) + 1);
  double s = 0;
  for (int64_t j = l; j <= n; ++j)
    s += std::exp(lgn - std::lgamma(static_cast<double>(j) + 1) - std::lgamma(static_cast<double>(n - j) + 1) +
                  static_cast<double>(j) * lp + static_cast<double>(n - j) * lq);
  return std::min(1.0, s);
}

// The coverage of the (l, k) quantile of quantiles for m clients of n iid continuous scores.
double qq_coverage(int64_t n, int64_t m, int64_t l, int64_t k) {
  constexpr int64_t kIntervals = 2000;  // Simpson; the integrand is a polynomial in t of degree <= n m
  double s = 0;
  for (int64_t i = 0; i <= kIntervals; ++i) {
    const double t = static_cast<double>(i) / kIntervals;
    const double f = 1.0 - binomial_upper_tail(m, binomial_upper_tail(n, t, l), k);  // P(Bin(m, F) <= k - 1)
    const double c = (i == 0 || i == kIntervals) ? 1.0 : (i % 2 ? 4.0 : 2.0);
    s += c * f;
  }
  return s / (3.0 * kIntervals);
}

namespace {

struct QQOrders {
  int64_t l = 0, k = 0;  // 0: no valid pair (n too small for alpha)
  double coverage = 0;
};

QQOrders choose_orders(int64_t n, int64_t m, double alpha) {
  QQOrders best;
  best.coverage = std::numeric_limits<double>::infinity();
  for (int64_t k = 1; k <= m; ++k) {
    // Coverage grows with l: the smallest valid l by bisection.
    if (qq_coverage(n, m, n, k) < 1.0 - alpha) continue;
    int64_t lo = 1, hi = n;
    while (lo < hi) {
      const int64_t mid = (lo + hi) / 2;
      if (qq_coverage(n, m, mid, k) >= 1.0 - alpha) hi = mid;
      else lo = mid + 1;
    }
    const double c = qq_coverage(n, m, lo, k);
    if (c < best.coverage) best = {lo, k, c};
  }
  return best;
}

class FedCpQq final : public ConformalMethod {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info{"fedcp_qq", ConformalMethod::kFamily,
                                 "FedCP-QQ: one-shot k-th smallest of the clients' l-th smallest scores",
                                 "Humbert et al. 2023, arXiv 2302.02113", "1", {}};
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }
  void configure(const Params&) override {}

  ConformalThresholds calibrate(const FederatedScores& data, double alpha, at::Generator&, RunContext&) override {
    const int64_t m = data.num_clients();
    REPRO_ASSERT(m > 0, "fedcp_qq: no clients");
    const int64_t n = data.clients[0].scores.numel();
    for (const auto& c : data.clients)
      if (c.scores.numel() != n)
        throw DataError(fmt::format("conformal method 'fedcp_qq' needs clients of equal calibration size "
                                    "(its (l, k) rule assumes it); got {} and {}",
                                    n, c.scores.numel()));
    auto key = std::make_tuple(n, m, alpha);
    auto it = cache_.find(key);
    if (it == cache_.end()) it = cache_.emplace(key, choose_orders(n, m, alpha)).first;
    const QQOrders& o = it->second;
    double q = std::numeric_limits<double>::infinity();
    if (o.l > 0) {
      std::vector<double> local(m);
      for (int64_t i = 0; i < m; ++i) local[i] = order_statistic(client_scores(data, i).scores, o.l);
      q = order_statistic(local, o.k);
    }
    return {at::full({data.num_classes}, q, at::kDouble)};
  }

 private:
  std::map<std::tuple<int64_t, int64_t, double>, QQOrders> cache_;
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_METHOD(ConformalMethod, repro::FedCpQq);
