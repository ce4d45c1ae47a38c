#pragma once
// An RDP accountant for DP-SGD: the history of (q, sigma, steps) phases of the sampled Gaussian
// mechanism, composed by summing RDP at each order, converted to (epsilon, delta); and the noise
// multiplier that meets a target (epsilon, delta) for a planned run. Mirrors Opacus's
// RDPAccountant and get_noise_multiplier (opacus/accountants/rdp.py, opacus/accountants/utils.py).
//
// Which accountant produced a number matters: Opacus's default for make_private_with_epsilon is
// the PRV accountant (Gopi, Lee, Wutschitz, arXiv 2106.02848), which gives a slightly smaller sigma
// for the same target than RDP. Records should name the accountant (`name()`).

#include <cstdint>
#include <string>
#include <vector>

#include "training/dp/rdp.h"

namespace repro::dp {

// `steps` steps of the sampled Gaussian mechanism with Poisson rate `q` and noise multiplier `sigma`.
struct SgmPhase {
  double q = 0.0;
  double sigma = 0.0;
  int64_t steps = 0;
};

class RdpAccountant {
 public:
  explicit RdpAccountant(std::vector<double> orders = default_rdp_orders(),
                         RdpConversion conversion = RdpConversion::kBalle2020);

  // Records `steps` more steps at (q, sigma). Consecutive steps with the same (q, sigma) extend the
  // last phase, as Opacus's history does. Throws ConfigError for q outside [0, 1], sigma < 0, steps < 0.
  void compose(double q, double sigma, int64_t steps = 1);

  const std::vector<SgmPhase>& history() const { return history_; }
  int64_t total_steps() const;
  const std::vector<double>& orders() const { return orders_; }

  // Composed RDP at each order (the sum over phases); zeros before any step.
  std::vector<double> rdp() const;
  // (epsilon, best order) spent so far at `delta`; epsilon 0 before any step (as Opacus).
  PrivacySpent privacy_spent(double delta) const;
  double epsilon(double delta) const { return privacy_spent(delta).epsilon; }

  // "rdp" (Opacus's conversion) or "rdp_classic", for records.
  std::string name() const;

 private:
  std::vector<double> orders_;
  RdpConversion conversion_;
  std::vector<SgmPhase> history_;
};

struct NoiseCalibrationOptions {
  // The bisection stops once target - epsilon(sigma) <= tolerance (Opacus's epsilon_tolerance).
  double epsilon_tolerance = 0.01;
  std::vector<double> orders = default_rdp_orders();
  RdpConversion conversion = RdpConversion::kBalle2020;
};

// The noise multiplier sigma such that `steps` steps at rate `q` spend at most `target_epsilon`
// at `target_delta`, and at least target_epsilon - epsilon_tolerance: Opacus's
// get_noise_multiplier (accountant "rdp") step for step — double an upper bound from 10 until it
// meets the target, then bisect on [0, upper] keeping the upper end feasible. (For a number of
// epochs, Opacus uses steps = int(epochs / q).) Throws ConfigError when sigma would exceed 1e6
// ("the privacy budget is too low") or an argument is out of range.
double calibrate_noise_multiplier(double target_epsilon, double target_delta, double q, int64_t steps,
                                  const NoiseCalibrationOptions& options = {});

}  // namespace repro::dp
