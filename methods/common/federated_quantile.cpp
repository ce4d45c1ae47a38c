#include "methods/common/federated_quantile.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <ATen/ATen.h>

#include "core/error.h"

namespace repro {

double smoothed_pinball(double u, double beta, double gamma) {
  if (u >= beta * gamma) return beta * u - beta * beta * gamma / 2;
  if (u <= (beta - 1) * gamma) return (beta - 1) * u - (beta - 1) * (beta - 1) * gamma / 2;
  return u * u / (2 * gamma);
}

double smoothed_pinball_grad(double u, double beta, double gamma) {
  return std::clamp(u / gamma, beta - 1, beta);
}

namespace {

// One client's scores sorted, with prefix sums of w and w V, so that its gradient at any q costs
// O(log N_i); the value is the same as summing over its points.
class ClientGradient {
 public:
  ClientGradient(const ClientScores& c, const double* w) {
    at::Tensor s = c.scores.to(at::kCPU, at::kDouble).contiguous();
    at::Tensor l = c.labels.to(at::kCPU, at::kLong).contiguous();
    const int64_t n = s.numel();
    std::vector<int64_t> order(n);
    std::iota(order.begin(), order.end(), int64_t{0});
    const double* sp = s.data_ptr<double>();
    const int64_t* lp = l.data_ptr<int64_t>();
    std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return sp[a] < sp[b]; });
    v_.resize(n);
    cw_.assign(n + 1, 0.0);
    cwv_.assign(n + 1, 0.0);
    for (int64_t r = 0; r < n; ++r) {
      const double wi = w[lp[order[r]]];
      v_[r] = sp[order[r]];
      cw_[r + 1] = cw_[r] + wi;
      cwv_[r + 1] = cwv_[r] + wi * v_[r];
    }
  }

  // sum_k w_k d/dq rho^gamma_beta(V_k - q) = -sum_k w_k clip((V_k - q) / gamma, beta - 1, beta).
  double grad(double q, double beta, double gamma) const {
    const size_t lo = std::lower_bound(v_.begin(), v_.end(), q + (beta - 1) * gamma) - v_.begin();
    const size_t hi = std::upper_bound(v_.begin(), v_.end(), q + beta * gamma) - v_.begin();
    const double below = cw_[lo];                    // V <= q + (beta - 1) gamma: slope beta - 1
    const double above = cw_.back() - cw_[hi];       // V > q + beta gamma: slope beta
    const double mid_w = cw_[hi] - cw_[lo];
    const double mid_wv = cwv_[hi] - cwv_[lo];
    return -((beta - 1) * below + beta * above + (mid_wv - q * mid_w) / gamma);
  }

  double total_weight() const { return cw_.back(); }

 private:
  std::vector<double> v_, cw_, cwv_;
};

}  // namespace

FederatedQuantileResult federated_pinball_quantile(const FederatedScores& data, const at::Tensor& weights,
                                                   double alpha, const FederatedQuantileOptions& o,
                                                   at::Generator& gen) {
  REPRO_ASSERT(o.smoothing > 0 && o.step_size > 0 && o.rounds >= 0 && o.noise_multiplier >= 0 && o.lower <= o.upper,
               "federated_pinball_quantile: invalid options");
  at::Tensor w = weights.to(at::kCPU, at::kDouble).contiguous();
  const int64_t k = w.numel();
  const double* wp = w.data_ptr<double>();
  const int64_t n = data.num_clients();

  std::vector<ClientGradient> clients;
  clients.reserve(n);
  double total = 0;
  for (const auto& c : data.clients) {
    clients.emplace_back(c, wp);
    total += clients.back().total_weight();
  }
  const double w_max = w.max().item<double>();
  constexpr double kInf = std::numeric_limits<double>::infinity();

  FederatedQuantileResult r;
  r.threshold = at::full({k}, kInf, at::kDouble);
  r.level = at::empty({k}, at::kDouble);
  r.noise_std = at::zeros({k}, at::kDouble);
  r.sensitivity = at::zeros({k}, at::kDouble);
  if (total <= 0) return r;

  std::vector<double> beta(k), s(k), q(k, std::clamp(o.init, o.lower, o.upper));
  for (int64_t y = 0; y < k; ++y) {
    beta[y] = (1.0 - alpha) * (total + wp[y]) / total;
    r.level[y] = beta[y];
    const double delta = 2.0 * w_max * std::max(beta[y], 1.0 - beta[y]) / total;
    r.sensitivity[y] = delta;
    s[y] = o.noise_multiplier * delta;
    r.noise_std[y] = s[y];
  }
  // All noise at once ([T, n, K]); nothing is drawn without noise, so z = 0 is deterministic.
  at::Tensor noise;
  const double* np = nullptr;
  if (o.noise_multiplier > 0 && o.rounds > 0) {
    noise = at::randn({o.rounds, n, k}, gen, at::TensorOptions().dtype(at::kDouble)).contiguous();
    np = noise.data_ptr<double>();
  }
  for (int64_t t = 0; t < o.rounds; ++t) {
    const double eta = o.step_size / std::sqrt(static_cast<double>(t + 1));
    for (int64_t y = 0; y < k; ++y) {
      if (beta[y] >= 1.0) continue;
      double g = 0;  // the server's sum of the clients' (noisy) messages
      for (int64_t i = 0; i < n; ++i) {
        g += clients[i].grad(q[y], beta[y], o.smoothing) / total;
        if (np) g += s[y] * np[(t * n + i) * k + y];
      }
      q[y] = std::clamp(q[y] - eta * g, o.lower, o.upper);
    }
  }
  for (int64_t y = 0; y < k; ++y)
    if (beta[y] < 1.0) r.threshold[y] = q[y];
  return r;
}

}  // namespace repro
