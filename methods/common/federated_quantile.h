#pragma once
// The federated weighted quantile of DP-FedCP (Plassier et al., ICML 2023, arXiv 2306.05131):
// the conformal threshold of each label is the minimizer of a smoothed, importance-weighted pinball
// loss summed over clients, found by gradient steps in which every client sends only its gradient
// (optionally with Gaussian noise for differential privacy). The smoothing form, the step rule and
// the noise calibration below are reconstructions (methods/dp_fedcp/README.md lists them).

#include <cstdint>
#include <vector>

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include "methods/api/conformal_method.h"

namespace repro {

// The Moreau envelope of the pinball loss rho_beta(u) = max(beta u, (beta - 1) u) with parameter
// gamma > 0 (Huber-like: quadratic on ((beta-1) gamma, beta gamma), linear outside).
double smoothed_pinball(double u, double beta, double gamma);
// d/du of smoothed_pinball: clip(u / gamma, beta - 1, beta).
double smoothed_pinball_grad(double u, double beta, double gamma);

struct FederatedQuantileOptions {
  int64_t rounds = 1000;          // T communication rounds
  double step_size = 1.0;         // eta_0; round t uses eta_0 / sqrt(t + 1)
  double smoothing = 1e-3;        // gamma of the Moreau envelope
  double noise_multiplier = 0.0;  // z: each client's gradient gets N(0, (z * Delta_y)^2) per label and round
  double init = 0.5;              // q_0 for every label
  double lower = 0.0, upper = 1.0;  // iterates projected to the score range
};

struct FederatedQuantileResult {
  at::Tensor threshold;     // [K] fp64: q_T per label, +inf where the level beta(y) >= 1
  at::Tensor level;         // [K] fp64: beta(y) = (1 - alpha)(W + w(y)) / W
  at::Tensor noise_std;     // [K] fp64: the per-client, per-round std z * Delta_y (0 without noise)
  at::Tensor sensitivity;   // [K] fp64: Delta_y = 2 w_max max(beta_y, 1 - beta_y) / W (replace-one, per client)
};

// Minimizes, for each label y with beta(y) < 1,
//   F_y(q) = sum_i (1/W) sum_k w(Y_ik) rho^gamma_{beta(y)}(V_ik - q)
// by q_{t+1} = clip(q_t - eta_t sum_i (grad F_{y,i}(q_t) + xi_{i,t}), lower, upper), xi ~ N(0, s_y^2).
// The minimizer of the unsmoothed F_y is the weighted conformal threshold of
// weighted_conformal_thresholds (conformal_scores.h); the smoothed one is within O(gamma) of it.
// weights: [K] (w(y), label_shift_weights). Noise only from `gen`, and none drawn when z = 0.
FederatedQuantileResult federated_pinball_quantile(const FederatedScores& data, const at::Tensor& weights,
                                                   double alpha, const FederatedQuantileOptions& options,
                                                   at::Generator& gen);

}  // namespace repro
