#include "methods/common/conformal_scores.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "core/error.h"

namespace repro {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

at::Tensor as_cpu_double(const at::Tensor& t) { return t.detach().to(at::kCPU, at::kDouble).contiguous(); }
}  // namespace

int64_t FederatedScores::total_size() const {
  int64_t n = 0;
  for (const auto& c : clients) n += c.scores.numel();
  return n;
}

at::Tensor lac_scores(const at::Tensor& probs) {
  REPRO_ASSERT(probs.dim() == 2, "lac_scores: probs must be [N, K]");
  return 1.0 - as_cpu_double(probs);
}

at::Tensor aps_scores(const at::Tensor& probs, bool randomized, at::Generator& gen) {
  REPRO_ASSERT(probs.dim() == 2, "aps_scores: probs must be [N, K]");
  at::Tensor p = as_cpu_double(probs);
  const int64_t n = p.size(0), k = p.size(1);
  at::Tensor u = randomized ? at::rand({n}, gen, at::TensorOptions().dtype(at::kDouble)) : at::ones({n}, at::kDouble);
  at::Tensor out = at::empty({n, k}, at::kDouble);
  const double* pp = p.data_ptr<double>();
  const double* up = u.data_ptr<double>();
  double* op = out.data_ptr<double>();
  std::vector<int64_t> order(k);
  for (int64_t i = 0; i < n; ++i) {
    const double* row = pp + i * k;
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return row[a] > row[b]; });
    double above = 0;  // mass of the labels ranked strictly before this one
    for (int64_t r = 0; r < k; ++r) {
      const int64_t y = order[r];
      op[i * k + y] = above + up[i] * row[y];
      above += row[y];
    }
  }
  return out;
}

at::Tensor true_label_scores(const at::Tensor& scores, const at::Tensor& labels) {
  REPRO_ASSERT(scores.dim() == 2 && labels.dim() == 1 && labels.size(0) == scores.size(0),
               "true_label_scores: scores [N, K] and labels [N]");
  return as_cpu_double(scores).gather(1, labels.to(at::kCPU, at::kLong).unsqueeze(1)).squeeze(1).contiguous();
}

double order_statistic(std::vector<double> values, int64_t k) {
  if (k < 1) return -kInf;
  if (k > static_cast<int64_t>(values.size())) return kInf;
  std::nth_element(values.begin(), values.begin() + (k - 1), values.end());
  return values[k - 1];
}

double split_conformal_quantile(std::vector<double> scores, double alpha) {
  const double n = static_cast<double>(scores.size());
  // A small tolerance so that (1 - alpha)(N + 1) = 90.000000001 from rounding is rank 90.
  const auto k = static_cast<int64_t>(std::ceil((1.0 - alpha) * (n + 1.0) - 1e-9));
  return order_statistic(std::move(scores), k);
}

at::Tensor calibration_label_dist(const FederatedScores& data) {
  REPRO_ASSERT(data.client_label_dist.dim() == 2 && data.client_label_dist.size(0) == data.num_clients() &&
                   data.client_label_dist.size(1) == data.num_classes,
               "FederatedScores: client_label_dist must be [n_clients, K]");
  at::Tensor sizes = at::empty({data.num_clients()}, at::kDouble);
  for (int64_t i = 0; i < data.num_clients(); ++i) sizes[i] = static_cast<double>(data.clients[i].scores.numel());
  at::Tensor pi = as_cpu_double(data.client_label_dist);
  return (sizes.unsqueeze(1) * pi).sum(0) / sizes.sum();
}

at::Tensor label_shift_weights(const FederatedScores& data) {
  REPRO_ASSERT(data.target_label_dist.numel() == data.num_classes, "FederatedScores: target_label_dist must be [K]");
  at::Tensor cal = calibration_label_dist(data);
  at::Tensor target = as_cpu_double(data.target_label_dist);
  return at::where(cal > 0, target / cal.clamp_min(1e-300), at::zeros_like(cal));
}

namespace {
void append(PooledScores& out, const ClientScores& c) {
  at::Tensor s = as_cpu_double(c.scores);
  at::Tensor l = c.labels.to(at::kCPU, at::kLong).contiguous();
  REPRO_ASSERT(s.numel() == l.numel(), "ClientScores: scores and labels must have the same length");
  out.scores.insert(out.scores.end(), s.data_ptr<double>(), s.data_ptr<double>() + s.numel());
  out.labels.insert(out.labels.end(), l.data_ptr<int64_t>(), l.data_ptr<int64_t>() + l.numel());
}
}  // namespace

PooledScores pool(const FederatedScores& data) {
  PooledScores out;
  for (const auto& c : data.clients) append(out, c);
  return out;
}

PooledScores client_scores(const FederatedScores& data, int64_t client) {
  REPRO_ASSERT(client >= 0 && client < data.num_clients(), "client index out of range");
  PooledScores out;
  append(out, data.clients[client]);
  return out;
}

at::Tensor weighted_conformal_thresholds(const PooledScores& cal, const at::Tensor& weights, double alpha) {
  at::Tensor w = as_cpu_double(weights);
  const int64_t k = w.numel();
  const double* wp = w.data_ptr<double>();
  const size_t n = cal.scores.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return cal.scores[a] < cal.scores[b]; });
  std::vector<double> cum(n);
  double total = 0;
  for (size_t r = 0; r < n; ++r) {
    const int64_t y = cal.labels[order[r]];
    REPRO_ASSERT(y >= 0 && y < k, "calibration label out of range");
    total += wp[y];
    cum[r] = total;
  }
  at::Tensor out = at::empty({k}, at::kDouble);
  for (int64_t y = 0; y < k; ++y) {
    const double level = (1.0 - alpha) * (total + wp[y]);
    // First rank whose cumulative weight reaches the level (relative tolerance for rounding).
    auto it = std::lower_bound(cum.begin(), cum.end(), level - 1e-12 * std::max(1.0, total));
    out[y] = (it == cum.end() || total <= 0) ? kInf : cal.scores[order[static_cast<size_t>(it - cum.begin())]];
  }
  return out;
}

at::Tensor prediction_sets(const at::Tensor& scores, const at::Tensor& threshold) {
  return as_cpu_double(scores).le(as_cpu_double(threshold).unsqueeze(0));
}

SetQuality evaluate_sets(const at::Tensor& scores, const at::Tensor& labels, const at::Tensor& threshold) {
  at::Tensor sets = prediction_sets(scores, threshold);
  at::Tensor covered = sets.gather(1, labels.to(at::kCPU, at::kLong).unsqueeze(1));
  SetQuality q;
  q.coverage = covered.to(at::kDouble).mean().item<double>();
  q.mean_size = sets.sum(1).to(at::kDouble).mean().item<double>();
  return q;
}

}  // namespace repro
