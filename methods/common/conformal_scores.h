#pragma once
// Split-conformal building blocks for classification: nonconformity scores from class
// probabilities, exact (weighted) conformal quantiles, label-shift importance weights and the
// evaluation of prediction sets. The ConformalMethod plugins and the `conformal` suite share them.
//
// Scores come from any [N, K] probability tensor: the synthetic Gaussian-mixture task
// (conformal_synthetic.h) today, an image classifier's softmax later (the hook: compute `probs`,
// call lac_scores / aps_scores, hand the true-label column to a ConformalMethod).

#include <cstdint>
#include <vector>

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include "methods/api/conformal_method.h"

namespace repro {

// LAC ("least ambiguous set-valued classifier", Sadinle, Lei & Wasserman 2019): V(x, y) = 1 - p_y(x).
// probs: [N, K] on any device -> [N, K] fp64 CPU.
at::Tensor lac_scores(const at::Tensor& probs);

// APS (Romano, Sesia & Candes 2020, arXiv 2006.02544, eq. for the randomized score):
// V(x, y) = sum_{y': p_y' > p_y} p_y' + u * p_y, u ~ U(0, 1) one per row from `gen` (randomized),
// or u = 1 (randomized = false: the total mass of the labels ranked at or above y).
// probs: [N, K] on any device -> [N, K] fp64 CPU. Ties in p are ordered by label index.
at::Tensor aps_scores(const at::Tensor& probs, bool randomized, at::Generator& gen);

// The score of each row's true label. scores: [N, K], labels: [N] int64 -> [N] fp64 CPU.
at::Tensor true_label_scores(const at::Tensor& scores, const at::Tensor& labels);

// The ceil((1 - alpha)(N + 1))-th smallest of `scores` (1-based), +inf when that exceeds N: the
// split-conformal quantile (Vovk et al. 2005; Angelopoulos & Bates 2021, arXiv 2107.07511, sec. 1).
double split_conformal_quantile(std::vector<double> scores, double alpha);

// The k-th smallest (1-based) of `values`; +inf when k > size, -inf when k < 1.
double order_statistic(std::vector<double> values, int64_t k);

// pi_cal = sum_i N_i pi_i / N: the label law of the pooled calibration set. -> [K] fp64.
at::Tensor calibration_label_dist(const FederatedScores& data);

// w(y) = pi_test(y) / pi_cal(y) (Tibshirani et al. 2019, arXiv 1904.06019, sec. 2; under label shift
// the likelihood ratio depends on y only). A label with pi_cal(y) = 0 gets weight 0 (no calibration
// point carries it); its threshold is then +inf whenever pi_test(y) > 0. -> [K] fp64.
at::Tensor label_shift_weights(const FederatedScores& data);

// All clients' scores and labels, concatenated in client order.
struct PooledScores {
  std::vector<double> scores;
  std::vector<int64_t> labels;
};
PooledScores pool(const FederatedScores& data);
PooledScores client_scores(const FederatedScores& data, int64_t client);

// Weighted split conformal under label shift with exact quantiles (Tibshirani et al. 2019, sec. 2,
// with the test point's own mass as an atom at +inf). For each label y:
//   Q(y) = Quantile_{1-alpha}( sum_j w(Y_j) delta_{V_j} + w(y) delta_{+inf} ) / (W + w(y)),
// W = sum_j w(Y_j), i.e. the smallest V_j whose cumulative weight reaches (1 - alpha)(W + w(y)),
// +inf when none does. weights: [K] (w(y)); returns [K] fp64. With unit weights every entry is the
// split-conformal quantile.
at::Tensor weighted_conformal_thresholds(const PooledScores& cal, const at::Tensor& weights, double alpha);

// Prediction sets and their quality on labelled test points.
// scores: [N, K] fp64 (V(x, y) for every label), labels: [N] int64, threshold: [K] fp64.
struct SetQuality {
  double coverage = 0;  // fraction of rows whose true label is in the set
  double mean_size = 0;  // average number of labels in the set
};
at::Tensor prediction_sets(const at::Tensor& scores, const at::Tensor& threshold);  // -> bool [N, K]
SetQuality evaluate_sets(const at::Tensor& scores, const at::Tensor& labels, const at::Tensor& threshold);

}  // namespace repro
