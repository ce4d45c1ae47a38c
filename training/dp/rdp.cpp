#include "training/dp/rdp.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "core/error.h"

namespace repro::dp {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

// log(exp(x) + exp(y)).
double log_add(double x, double y) {
  const double a = std::min(x, y), b = std::max(x, y);
  if (a == -kInf) return b;
  return std::log1p(std::exp(a - b)) + b;
}

// log(exp(x) - exp(y)) for x >= y. Where exp(x - y) overflows the result is x to double precision
// (Opacus returns x in that case too).
double log_sub(double x, double y) {
  if (x < y)
    throw NumericalError("RDP series: a partial sum became negative (log-space subtraction " + num(x) + " - " +
                         num(y) + ")");
  if (y == -kInf) return x;
  if (x == y) return -kInf;
  const double e = std::expm1(x - y);
  if (!std::isfinite(e)) return x;
  return std::log(e) + y;
}

// log(erfc(x)). erfc underflows near x = 26.5, so above 20 the asymptotic expansion
// erfc(x) = exp(-x^2) / (x sqrt(pi)) * (1 - 1/(2x^2) + 3/(4x^4) - 15/(8x^6) + 105/(16x^8) - ...)
// is used (Abramowitz & Stegun 7.1.23); its truncation error there is below 1e-11 relative.
double log_erfc(double x) {
  if (x <= 20.0) return std::log(std::erfc(x));
  const double r = 1.0 / (2.0 * x * x);
  const double series = 1.0 - r * (1.0 - 3.0 * r * (1.0 - 5.0 * r * (1.0 - 7.0 * r)));
  return -x * x - std::log(x) - 0.5 * std::log(M_PI) + std::log(series);
}

// log(A_alpha) for integer alpha (arXiv 1908.10530, Sec. 3.3): a finite binomial sum
// A = sum_k binom(alpha, k) (1-q)^(alpha-k) q^k exp((k^2 - k) / (2 sigma^2)).
double log_a_int(double q, double sigma, int64_t alpha) {
  double log_a = -kInf;
  const double a = static_cast<double>(alpha);
  for (int64_t k = 0; k <= alpha; ++k) {
    const double kd = static_cast<double>(k);
    const double log_binom = std::lgamma(a + 1) - std::lgamma(kd + 1) - std::lgamma(a - kd + 1);
    const double s = log_binom + kd * std::log(q) + (a - kd) * std::log1p(-q) + (kd * kd - kd) / (2 * sigma * sigma);
    log_a = log_add(log_a, s);
  }
  return log_a;
}

// log(A_alpha) for fractional alpha (arXiv 1908.10530, Sec. 3.3): the integral split at
// z0 = sigma^2 log(1/q - 1) + 1/2 into two series over generalized binomial coefficients
// binom(alpha, i), which change sign once i > alpha. Summed until both terms drop below e^-30,
// the stopping rule of Opacus/TF-Privacy.
double log_a_frac(double q, double sigma, double alpha) {
  double log_a0 = -kInf, log_a1 = -kInf;
  const double z0 = sigma * sigma * std::log(1.0 / q - 1.0) + 0.5;
  const double log_q = std::log(q), log_1mq = std::log1p(-q);
  // binom(alpha, i) as sign * exp(log_coef), by the recurrence binom(alpha, i+1) = binom(alpha, i) (alpha - i)/(i + 1).
  double log_coef = 0.0, sign = 1.0;
  for (int64_t i = 0;; ++i) {
    const double id = static_cast<double>(i);
    const double j = alpha - id;
    const double log_t0 = log_coef + id * log_q + j * log_1mq;
    const double log_t1 = log_coef + j * log_q + id * log_1mq;
    const double log_e0 = std::log(0.5) + log_erfc((id - z0) / (M_SQRT2 * sigma));
    const double log_e1 = std::log(0.5) + log_erfc((z0 - j) / (M_SQRT2 * sigma));
    const double log_s0 = log_t0 + (id * id - id) / (2 * sigma * sigma) + log_e0;
    const double log_s1 = log_t1 + (j * j - j) / (2 * sigma * sigma) + log_e1;
    if (sign > 0) {
      log_a0 = log_add(log_a0, log_s0);
      log_a1 = log_add(log_a1, log_s1);
    } else {
      log_a0 = log_sub(log_a0, log_s0);
      log_a1 = log_sub(log_a1, log_s1);
    }
    if (std::max(log_s0, log_s1) < -30) break;
    log_coef += std::log(std::abs(alpha - id)) - std::log(id + 1);
    if (alpha - id < 0) sign = -sign;
  }
  return log_add(log_a0, log_a1);
}

}  // namespace

const std::vector<double>& default_rdp_orders() {
  static const std::vector<double> orders = [] {
    std::vector<double> v;
    for (int x = 1; x < 100; ++x) v.push_back(1.0 + x / 10.0);
    for (int a = 12; a < 64; ++a) v.push_back(a);
    return v;
  }();
  return orders;
}

double rdp_sampled_gaussian(double q, double sigma, double alpha) {
  if (!(q >= 0.0 && q <= 1.0)) throw ConfigError("RDP: sampling rate q = " + num(q) + " is outside [0, 1]");
  if (!(sigma >= 0.0)) throw ConfigError("RDP: noise multiplier sigma = " + num(sigma) + " is negative or NaN");
  if (!(alpha > 1.0)) throw ConfigError("RDP: order alpha = " + num(alpha) + " must be > 1");
  if (q == 0.0) return 0.0;
  if (sigma == 0.0) return kInf;
  if (q == 1.0) return alpha / (2 * sigma * sigma);
  if (std::isinf(alpha)) return kInf;
  // Integer orders up to 2^53 are exact in a double; larger ones take the fractional path.
  const bool integer = alpha == std::floor(alpha) && alpha < 9007199254740992.0;
  const double log_a = integer ? log_a_int(q, sigma, static_cast<int64_t>(alpha)) : log_a_frac(q, sigma, alpha);
  return log_a / (alpha - 1);
}

std::vector<double> compute_rdp(double q, double sigma, int64_t steps, const std::vector<double>& orders) {
  if (steps < 0) throw ConfigError("RDP: the number of steps (" + std::to_string(steps) + ") is negative");
  std::vector<double> rdp;
  rdp.reserve(orders.size());
  for (double a : orders) {
    const double r = rdp_sampled_gaussian(q, sigma, a);
    rdp.push_back(steps == 0 ? 0.0 : r * static_cast<double>(steps));
  }
  return rdp;
}

PrivacySpent rdp_to_epsilon(const std::vector<double>& orders, const std::vector<double>& rdp, double delta,
                            RdpConversion conversion) {
  REPRO_ASSERT(orders.size() == rdp.size(), "rdp_to_epsilon: " + std::to_string(orders.size()) + " orders but " +
                                                std::to_string(rdp.size()) + " RDP values");
  if (orders.empty()) throw ConfigError("RDP: the list of orders is empty");
  if (!(delta > 0.0 && delta < 1.0)) throw ConfigError("RDP: delta = " + num(delta) + " is outside (0, 1)");
  const double log_delta = std::log(delta);
  PrivacySpent best{kInf, std::numeric_limits<double>::quiet_NaN(), false};
  size_t best_i = 0;
  bool any = false;
  for (size_t i = 0; i < orders.size(); ++i) {
    const double a = orders[i];
    const double eps = conversion == RdpConversion::kBalle2020
                           ? rdp[i] - (log_delta + std::log(a)) / (a - 1) + std::log((a - 1) / a)
                           : rdp[i] - log_delta / (a - 1);
    if (std::isnan(eps)) continue;
    if (!any || eps < best.epsilon) {
      best.epsilon = eps, best.order = a, best_i = i;
      any = true;
    }
  }
  if (any) best.order_at_edge = orders.size() > 1 && (best_i == 0 || best_i + 1 == orders.size());
  return best;
}

}  // namespace repro::dp
