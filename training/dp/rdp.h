#pragma once
// Rényi differential privacy (RDP) of the sampled Gaussian mechanism (SGM) and its conversion to
// (epsilon, delta)-DP.
//
// The SGM adds N(0, sigma^2 C^2 I) to the sum of clipped per-example gradients (L2 sensitivity C)
// of a lot drawn by Poisson sampling with rate q. Its RDP at order alpha is log(A_alpha)/(alpha-1)
// with A_alpha from Mironov, Talwar, Zhang, "Rényi Differential Privacy of the Sampled Gaussian
// Mechanism", arXiv 1908.10530, Sec. 3.3 (integer alpha: a finite binomial sum; fractional alpha:
// two infinite series with erfc factors). The numerics follow the RDP analysis of Opacus
// (opacus/accountants/analysis/rdp.py, itself derived from TF-Privacy's rdp_accountant.py):
// log-space sums, the same stopping rule, the same conversion and the same default orders, so
// that the epsilons match what Opacus's RDPAccountant reports.

#include <cstdint>
#include <vector>

namespace repro::dp {

// Opacus's RDPAccountant.DEFAULT_ALPHAS: 1.1, 1.2, ..., 10.9 (99 orders) and 12, 13, ..., 63.
const std::vector<double>& default_rdp_orders();

// RDP of one step of the SGM at order `alpha` > 1 for sampling rate `q` in [0, 1] and noise
// multiplier `sigma` >= 0 (noise std / L2 sensitivity). 0 for q = 0, +inf for sigma = 0,
// alpha / (2 sigma^2) for q = 1 (the Gaussian mechanism). Throws ConfigError on arguments out of range.
double rdp_sampled_gaussian(double q, double sigma, double alpha);

// `steps` compositions of the SGM at each order: steps * rdp_sampled_gaussian(q, sigma, order).
std::vector<double> compute_rdp(double q, double sigma, int64_t steps, const std::vector<double>& orders);

// How RDP turns into (epsilon, delta)-DP.
enum class RdpConversion {
  // eps = min_a rdp(a) - (log(delta) + log(a)) / (a - 1) + log((a - 1) / a): Balle, Barthe,
  // Gaboardi, Hsu, Sato, "Hypothesis Testing Interpretations and Renyi Differential Privacy",
  // AISTATS 2020, arXiv 1905.09982, Theorem 21. What Opacus >= 1.0 `get_privacy_spent` uses.
  kBalle2020,
  // eps = min_a rdp(a) - log(delta) / (a - 1): Mironov, "Rényi Differential Privacy", arXiv
  // 1702.07476, Proposition 3. What TF-Privacy's README tables (and Opacus < 1.0) report.
  kClassic,
};

struct PrivacySpent {
  double epsilon;  // +inf when no order gives a finite bound
  double order;    // the order that attains it (the first one on ties; NaN when every bound is NaN)
  // The best order is the smallest or the largest one given: a wider order list may give a smaller
  // epsilon (Opacus warns in this case).
  bool order_at_edge;
};

// The smallest epsilon over `orders` for the composed RDP values `rdp` (same length) at `delta`
// in (0, 1). Orders whose bound is NaN are skipped, as Opacus's nanargmin does.
PrivacySpent rdp_to_epsilon(const std::vector<double>& orders, const std::vector<double>& rdp, double delta,
                            RdpConversion conversion = RdpConversion::kBalle2020);

}  // namespace repro::dp
