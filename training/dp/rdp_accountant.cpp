#include "training/dp/rdp_accountant.h"

#include <limits>
#include <string>

#include <fmt/format.h>

#include "core/error.h"

namespace repro::dp {

namespace {

std::string num(double x) { return fmt::format("{:.6g}", x); }

// Opacus's MAX_SIGMA (opacus/accountants/utils.py).
constexpr double kMaxSigma = 1e6;

}  // namespace

RdpAccountant::RdpAccountant(std::vector<double> orders, RdpConversion conversion)
    : orders_(std::move(orders)), conversion_(conversion) {
  if (orders_.empty()) throw ConfigError("RdpAccountant: the list of orders is empty");
  for (double a : orders_)
    if (!(a > 1.0)) throw ConfigError("RdpAccountant: order " + num(a) + " must be > 1");
}

void RdpAccountant::compose(double q, double sigma, int64_t steps) {
  if (!(q >= 0.0 && q <= 1.0)) throw ConfigError("RdpAccountant: sampling rate q = " + num(q) + " is outside [0, 1]");
  if (!(sigma >= 0.0)) throw ConfigError("RdpAccountant: noise multiplier " + num(sigma) + " is negative or NaN");
  if (steps < 0) throw ConfigError("RdpAccountant: negative number of steps " + std::to_string(steps));
  if (steps == 0) return;
  if (!history_.empty() && history_.back().q == q && history_.back().sigma == sigma)
    history_.back().steps += steps;
  else
    history_.push_back({q, sigma, steps});
}

int64_t RdpAccountant::total_steps() const {
  int64_t n = 0;
  for (const auto& p : history_) n += p.steps;
  return n;
}

std::vector<double> RdpAccountant::rdp() const {
  std::vector<double> total(orders_.size(), 0.0);
  for (const auto& p : history_) {
    const std::vector<double> r = compute_rdp(p.q, p.sigma, p.steps, orders_);
    for (size_t i = 0; i < total.size(); ++i) total[i] += r[i];
  }
  return total;
}

PrivacySpent RdpAccountant::privacy_spent(double delta) const {
  if (history_.empty()) {
    if (!(delta > 0.0 && delta < 1.0)) throw ConfigError("RdpAccountant: delta = " + num(delta) + " is outside (0, 1)");
    return {0.0, std::numeric_limits<double>::quiet_NaN(), false};
  }
  return rdp_to_epsilon(orders_, rdp(), delta, conversion_);
}

std::string RdpAccountant::name() const { return conversion_ == RdpConversion::kBalle2020 ? "rdp" : "rdp_classic"; }

double calibrate_noise_multiplier(double target_epsilon, double target_delta, double q, int64_t steps,
                                  const NoiseCalibrationOptions& options) {
  if (!(target_epsilon > 0.0))
    throw ConfigError("noise calibration: target epsilon " + num(target_epsilon) + " must be > 0");
  if (!(options.epsilon_tolerance > 0.0))
    throw ConfigError("noise calibration: epsilon tolerance " + num(options.epsilon_tolerance) + " must be > 0");
  if (steps <= 0) throw ConfigError("noise calibration: number of steps " + std::to_string(steps) + " must be > 0");
  auto eps_at = [&](double sigma) {
    return rdp_to_epsilon(options.orders, compute_rdp(q, sigma, steps, options.orders), target_delta, options.conversion)
        .epsilon;
  };
  double sigma_low = 0.0, sigma_high = 10.0;
  double eps_high = std::numeric_limits<double>::infinity();
  while (eps_high > target_epsilon) {
    sigma_high *= 2;
    eps_high = eps_at(sigma_high);
    if (sigma_high > kMaxSigma)
      throw ConfigError("noise calibration: the privacy budget is too low (epsilon " + num(target_epsilon) +
                        ", delta " + num(target_delta) + ", q " + num(q) + ", " + std::to_string(steps) +
                        " steps needs sigma > 1e6)");
  }
  // Opacus loops until the tolerance is met; the cap only guards against an epsilon that jumps over
  // the tolerance band (after 200 halvings the interval is below double precision anyway).
  for (int it = 0; it < 200 && target_epsilon - eps_high > options.epsilon_tolerance; ++it) {
    const double sigma = (sigma_low + sigma_high) / 2;
    const double eps = eps_at(sigma);
    if (eps < target_epsilon) {
      sigma_high = sigma;
      eps_high = eps;
    } else {
      sigma_low = sigma;
    }
  }
  return sigma_high;
}

}  // namespace repro::dp
