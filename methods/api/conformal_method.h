#pragma once
// ConformalMethod: turns the calibration scores of several clients (agents) into prediction-set
// thresholds for a target label distribution. Federated split conformal prediction under label
// shift (Plassier et al., ICML 2023, arXiv 2306.05131) and its baselines are plugins of this
// family. Scores come from any frozen classifier (methods/common/conformal_scores.h turns an
// [N, K] probability tensor into LAC or APS scores), so the same plugins serve synthetic tasks and
// image classifiers.

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include "methods/method.h"

namespace repro {

// One client's calibration set, seen only through its scores.
struct ClientScores {
  at::Tensor scores;  // [N_i] fp64 CPU: V(x_k, y_k), the score of each point's true label (larger = less conforming)
  at::Tensor labels;  // [N_i] int64 CPU, in [0, K)
};

// What a ConformalMethod calibrates on. Label distributions are public inputs (known, or estimated
// from label counts by the caller); the label-shift importance weight of label y is
// w(y) = target_label_dist[y] / pi_cal(y), pi_cal = sum_i N_i pi_i / N (see calibration_label_dist).
struct FederatedScores {
  std::vector<ClientScores> clients;
  int64_t num_classes = 0;
  at::Tensor client_label_dist;  // [n_clients, K] fp64 CPU, rows sum to 1: pi_i
  at::Tensor target_label_dist;  // [K] fp64 CPU, sums to 1: pi_test
  int64_t target_client = -1;    // the client whose distribution is the target (-1: none; `local` needs one)

  int64_t num_clients() const { return static_cast<int64_t>(clients.size()); }
  int64_t total_size() const;  // N = sum_i N_i
};

// Include label y in the set of x iff V(x, y) <= threshold[y]; +inf: always included.
struct ConformalThresholds {
  ConformalThresholds(at::Tensor t = {}) : threshold(std::move(t)) {}  // NOLINT: `return {thresholds};`
  at::Tensor threshold;  // [K] fp64 CPU
  // The privacy this calibration spent, for methods with a privacy mechanism in use: (epsilon,
  // delta) of what the server saw; nullopt without one (or with its noise off).
  std::optional<double> epsilon;
  double delta = 0.0;
  double noise_multiplier = 0.0;  // z of the Gaussian releases (0: none)
};

class ConformalMethod : public Method {
 public:
  static constexpr const char* kFamily = "ConformalMethod";
  // Thresholds meant to give P(Y in C(X)) >= 1 - alpha for (X, Y) from the target distribution.
  // alpha in (0, 1). Randomness (privacy noise) only from `gen`, so a fixed generator state gives
  // identical thresholds. Inputs a method cannot use (no target client for `local`, unequal client
  // sizes for `fedcp_qq`) -> DataError naming the requirement.
  virtual ConformalThresholds calibrate(const FederatedScores& data, double alpha, at::Generator& gen,
                                        RunContext& ctx) = 0;
};

}  // namespace repro
