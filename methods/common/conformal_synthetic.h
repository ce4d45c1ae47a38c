#pragma once
// A synthetic classification task with exact class probabilities, and clients with label shift,
// for testing and benchmarking conformal methods without training anything.
//
// X | Y = y ~ N(mu_y, sigma_y^2 I_d). The classifier is the Bayes classifier of the balanced
// population (uniform label prior): p_y(x) = softmax_y(log N(x; mu_y, sigma_y^2 I)), computed
// exactly. Classes differ in difficulty (sigma_y grows with y from std_min to std_max), so a shift
// of the label marginals changes the score distribution: the situation label-shift weighting
// corrects (Plassier et al. 2023, arXiv 2306.05131, sec. 2 setting: P_i(x, y) = P(x | y) pi_i(y)).

#include <cstdint>

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

namespace repro {

struct GaussianMixtureOptions {
  int64_t num_classes = 10;
  int64_t dim = 8;
  double separation = 2.0;  // class means ~ separation * N(0, I_d)
  double std_min = 0.5;     // sigma_0
  double std_max = 2.0;     // sigma_{K-1}; sigma_y linear in y
};

struct GaussianMixtureTask {
  at::Tensor means;  // [K, d] fp64
  at::Tensor stds;   // [K] fp64

  int64_t num_classes() const { return means.size(0); }
  int64_t dim() const { return means.size(1); }
  // Draws x for each label. labels: [N] int64 -> [N, d] fp64.
  at::Tensor sample(const at::Tensor& labels, at::Generator& gen) const;
  // The exact posterior under a uniform label prior. X: [N, d] -> [N, K] fp64, rows sum to 1.
  at::Tensor probs(const at::Tensor& X) const;
};

GaussianMixtureTask make_gaussian_mixture_task(const GaussianMixtureOptions& options, at::Generator& gen);

// Label distributions of n clients, each pi_i ~ Dirichlet(concentration * 1_K) (the usual
// federated label-skew model, Hsu et al. 2019, arXiv 1909.06335). Every entry is floored at
// `floor` and rows renormalized, so that importance weights stay finite. -> [n, K] fp64.
at::Tensor dirichlet_label_dists(int64_t num_clients, int64_t num_classes, double concentration, double floor,
                                 at::Generator& gen);

// n labels drawn iid from pi ([K] fp64). -> [n] int64.
at::Tensor sample_labels(const at::Tensor& pi, int64_t n, at::Generator& gen);

}  // namespace repro
