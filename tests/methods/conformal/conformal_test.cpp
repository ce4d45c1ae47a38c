// Conformal prediction under label shift: scores, exact (weighted) conformal quantiles, the
// federated smoothed-pinball quantile of DP-FedCP and the ConformalMethod plugins.
#include "tests/catch.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <ATen/ATen.h>

#include "core/error.h"
#include "core/run_context.h"
#include "methods/api/conformal_method.h"
#include "methods/common/conformal_scores.h"
#include "methods/common/conformal_synthetic.h"
#include "methods/common/federated_quantile.h"
#include "methods/fedcp_qq/fedcp_qq.h"
#include "training/dp/rdp_accountant.h"

using namespace repro;

namespace {

RunContext& quiet() {
  static RunContext ctx([] {
    RunOptions o;
    o.log_level = "off";
    o.progress = false;
    return o;
  }());
  return ctx;
}

at::Generator seeded(uint64_t seed) {
  at::Generator g = at::detail::createCPUGenerator(seed);
  return g;
}

std::unique_ptr<ConformalMethod> make(const std::string& name, Value::Table params = {}) {
  auto m = Registry<ConformalMethod>::instance().create(name);
  m->configure(Params::validate(Value(std::move(params)), m->info().params, "method"));
  return m;
}

// The exact two-sided band of Bin(r, p) / r with at most `tail` probability on each side.
std::pair<double, double> binomial_band(int64_t r, double p, double tail) {
  int64_t lo = 0, hi = r;
  while (lo < r && binomial_upper_tail(r, p, lo + 1) > 1.0 - tail) ++lo;  // P(X <= lo) < tail
  while (hi > 0 && binomial_upper_tail(r, p, hi) < tail) --hi;            // P(X >= hi + 1) < tail
  return {static_cast<double>(lo) / r, static_cast<double>(hi) / r};
}

// Clients drawn from a Gaussian-mixture task with Dirichlet label laws (the suite's generator).
struct Synthetic {
  GaussianMixtureTask task;
  FederatedScores data;
  std::vector<at::Tensor> test_scores, test_labels;
};

Synthetic make_synthetic(int64_t clients, int64_t n_cal, int64_t n_test, uint64_t seed, double concentration = 0.5) {
  at::Generator g = seeded(seed);
  GaussianMixtureOptions o;
  o.num_classes = 6;
  o.dim = 4;
  Synthetic s;
  s.task = make_gaussian_mixture_task(o, g);
  at::Tensor pi = dirichlet_label_dists(clients, o.num_classes, concentration, 0.01, g);
  s.data.num_classes = o.num_classes;
  s.data.client_label_dist = pi;
  for (int64_t i = 0; i < clients; ++i) {
    at::Tensor y = sample_labels(pi[i], n_cal, g);
    s.data.clients.push_back({true_label_scores(lac_scores(s.task.probs(s.task.sample(y, g))), y), y});
    at::Tensor yt = sample_labels(pi[i], n_test, g);
    s.test_labels.push_back(yt);
    s.test_scores.push_back(lac_scores(s.task.probs(s.task.sample(yt, g))));
  }
  s.data.target_client = 0;
  s.data.target_label_dist = pi[0];
  return s;
}

}  // namespace

TEST_CASE("conformal scores: LAC and APS on a known probability vector", "[conformal]") {
  at::Tensor p = at::tensor({0.2, 0.5, 0.3}, at::kDouble).unsqueeze(0);
  CHECK(at::allclose(lac_scores(p), at::tensor({0.8, 0.5, 0.7}, at::kDouble).unsqueeze(0)));
  at::Generator g = seeded(0);
  // Non-randomized APS: the mass of the labels ranked at or above y.
  CHECK(at::allclose(aps_scores(p, false, g), at::tensor({1.0, 0.5, 0.8}, at::kDouble).unsqueeze(0)));
  // Randomized: u * p_y on top of the mass strictly above, so within [above, above + p_y].
  at::Tensor r = aps_scores(p, true, g);
  CHECK(r[0][1].item<double>() <= 0.5);
  CHECK(r[0][2].item<double>() >= 0.5);
  CHECK(r[0][2].item<double>() <= 0.8);
  // Exact Bayes probabilities of the synthetic task sum to one.
  GaussianMixtureOptions o;
  GaussianMixtureTask t = make_gaussian_mixture_task(o, g);
  at::Tensor probs = t.probs(t.sample(sample_labels(at::full({o.num_classes}, 0.1, at::kDouble), 64, g), g));
  CHECK(at::allclose(probs.sum(1), at::ones({64}, at::kDouble)));
}

TEST_CASE("conformal: split conformal coverage lies in the exact binomial band over many seeds", "[conformal]") {
  // Exchangeable data: one calibration set of n scores and one test point per seed, so the covered
  // indicators are iid Bernoulli(ceil((1 - alpha)(n + 1)) / (n + 1)) (Vovk et al. 2005).
  const int64_t n = 99, reps = 4000;
  const double alpha = 0.1;
  at::Generator g = seeded(7);
  GaussianMixtureOptions o;
  o.num_classes = 5;
  o.dim = 3;
  GaussianMixtureTask t = make_gaussian_mixture_task(o, g);
  at::Tensor y = sample_labels(at::full({5}, 0.2, at::kDouble), reps * (n + 1), g);
  at::Tensor v = true_label_scores(lac_scores(t.probs(t.sample(y, g))), y).reshape({reps, n + 1});
  int64_t covered = 0;
  for (int64_t r = 0; r < reps; ++r) {
    std::vector<double> cal(v[r].data_ptr<double>(), v[r].data_ptr<double>() + n);
    covered += v[r][n].item<double>() <= split_conformal_quantile(cal, alpha);
  }
  const double p = std::ceil((1 - alpha) * (n + 1)) / (n + 1);  // 0.9 exactly here
  auto [lo, hi] = binomial_band(reps, p, 1e-4);
  const double cov = static_cast<double>(covered) / reps;
  CHECK(cov >= lo);
  CHECK(cov <= hi);
  CHECK(split_conformal_quantile({1, 2, 3}, 0.1) == std::numeric_limits<double>::infinity());  // rank 4 > 3
}

TEST_CASE("conformal: weighted conformal restores coverage under a planted label shift; unweighted fails",
          "[conformal]") {
  // Calibration labels uniform, target leaning to the noisiest class: the exact weighted quantile
  // (Tibshirani et al. 2019) covers, the unweighted one undercovers.
  const int64_t k = 6, n = 300, n_test = 100, reps = 150;
  const double alpha = 0.1;
  at::Generator g = seeded(11);
  GaussianMixtureOptions o;
  o.num_classes = k;
  o.dim = 4;
  GaussianMixtureTask t = make_gaussian_mixture_task(o, g);
  at::Tensor uniform = at::full({k}, 1.0 / k, at::kDouble);
  at::Tensor target = at::full({k}, 0.04, at::kDouble);
  target[k - 1] = 0.8;
  auto weighted = make("central_weighted");
  auto unweighted = make("unweighted_federated");
  double cov_w = 0, cov_u = 0;
  for (int64_t r = 0; r < reps; ++r) {
    FederatedScores d;
    d.num_classes = k;
    at::Tensor y = sample_labels(uniform, n, g);
    d.clients.push_back({true_label_scores(lac_scores(t.probs(t.sample(y, g))), y), y});
    d.client_label_dist = uniform.unsqueeze(0);
    d.target_label_dist = target;
    at::Tensor yt = sample_labels(target, n_test, g);
    at::Tensor vt = lac_scores(t.probs(t.sample(yt, g)));
    cov_w += evaluate_sets(vt, yt, weighted->calibrate(d, alpha, g, quiet()).threshold).coverage / reps;
    cov_u += evaluate_sets(vt, yt, unweighted->calibrate(d, alpha, g, quiet()).threshold).coverage / reps;
  }
  // Per-repetition coverage has std <~ 0.05, so the mean over 150 has std <~ 0.004.
  CHECK(cov_w >= 1 - alpha - 0.015);
  CHECK(cov_u <= 1 - alpha - 0.05);
}

TEST_CASE("conformal: with no label shift the weighted threshold is the split-conformal quantile", "[conformal]") {
  Synthetic s = make_synthetic(3, 50, 1, 3);
  s.data.client_label_dist = at::full({3, 6}, 1.0 / 6, at::kDouble);
  s.data.target_label_dist = at::full({6}, 1.0 / 6, at::kDouble);
  at::Tensor w = weighted_conformal_thresholds(pool(s.data), label_shift_weights(s.data), 0.1);
  const double q = split_conformal_quantile(pool(s.data).scores, 0.1);
  CHECK(at::allclose(w, at::full({6}, q, at::kDouble)));
}

TEST_CASE("conformal: the smoothed pinball minimizer of 1..100 at 0.9 lies within gamma of [90, 91]",
          "[conformal]") {
  const double gamma = 0.05;
  double best = 0, best_f = std::numeric_limits<double>::infinity();
  for (double q = 80; q <= 100; q += 0.001) {
    double f = 0;
    for (int v = 1; v <= 100; ++v) f += smoothed_pinball(v - q, 0.9, gamma);
    if (f < best_f) best_f = f, best = q;
  }
  CHECK(best >= 90 - gamma);
  CHECK(best <= 91 + gamma);
  CHECK(smoothed_pinball_grad(1.0, 0.9, gamma) == Approx(0.9));
  CHECK(smoothed_pinball_grad(-1.0, 0.9, gamma) == Approx(-0.1));
}

TEST_CASE("dp_fedcp: the federated pinball quantile converges to the pooled weighted quantile without noise",
          "[conformal]") {
  Synthetic s = make_synthetic(5, 200, 1, 5);
  at::Tensor w = label_shift_weights(s.data);
  at::Tensor exact = weighted_conformal_thresholds(pool(s.data), w, 0.1);
  auto error = [&](int64_t rounds) {
    FederatedQuantileOptions o;
    o.rounds = rounds;
    o.smoothing = 1e-4;
    at::Generator g = seeded(1);
    at::Tensor q = federated_pinball_quantile(s.data, w, 0.1, o, g).threshold;
    REQUIRE(at::equal(at::isinf(q), at::isinf(exact)));
    at::Tensor finite = at::isfinite(exact);
    return (q.masked_select(finite) - exact.masked_select(finite)).abs().max().item<double>();
  };
  const double e10 = error(10), e100 = error(100), e3000 = error(3000);
  CHECK(e100 <= e10);
  CHECK(e3000 <= e100);
  CHECK(e3000 < 5e-3);  // N = 1000 scores in [0, 1]: adjacent order statistics are ~1e-3 apart
}

TEST_CASE("dp_fedcp: identical for a fixed seed; zero noise ignores the generator; noise std as configured",
          "[conformal]") {
  Synthetic s = make_synthetic(4, 100, 1, 9);
  at::Tensor w = label_shift_weights(s.data);
  FederatedQuantileOptions o;
  o.rounds = 200;
  at::Generator g1 = seeded(1), g2 = seeded(2);
  CHECK(at::equal(federated_pinball_quantile(s.data, w, 0.1, o, g1).threshold,
                  federated_pinball_quantile(s.data, w, 0.1, o, g2).threshold));
  o.noise_multiplier = 1.0;
  at::Generator a = seeded(3), b = seeded(3), c = seeded(4);
  at::Tensor qa = federated_pinball_quantile(s.data, w, 0.1, o, a).threshold;
  CHECK(at::equal(qa, federated_pinball_quantile(s.data, w, 0.1, o, b).threshold));
  CHECK(!at::equal(qa, federated_pinball_quantile(s.data, w, 0.1, o, c).threshold));

  // One round, no projection: q_1(noisy) - q_1(clean) = -eta_0 sum_i xi_i ~ N(0, eta_0^2 n s_y^2).
  o.rounds = 1;
  o.lower = -1e9;
  o.upper = 1e9;
  o.step_size = 0.5;
  o.noise_multiplier = 0;
  at::Generator g0 = seeded(0);
  at::Tensor clean = federated_pinball_quantile(s.data, w, 0.1, o, g0).threshold;
  o.noise_multiplier = 2.0;
  std::vector<at::Tensor> z;
  FederatedQuantileResult r;
  for (uint64_t seed = 0; seed < 2000; ++seed) {
    at::Generator g = seeded(100 + seed);
    r = federated_pinball_quantile(s.data, w, 0.1, o, g);
    at::Tensor ok = at::isfinite(clean);
    z.push_back(((r.threshold - clean) / (o.step_size * std::sqrt(4.0) * r.noise_std)).masked_select(ok));
  }
  CHECK(at::allclose(r.noise_std, 2.0 * r.sensitivity));
  at::Tensor all = at::cat(z);
  CHECK(all.std().item<double>() == Approx(1.0).margin(0.03));
  CHECK(std::abs(all.mean().item<double>()) < 0.03);
}

TEST_CASE("conformal methods: a larger alpha never gives larger sets", "[conformal]") {
  Synthetic s = make_synthetic(5, 120, 400, 21);
  for (const char* name :
       {"central_weighted", "unweighted_federated", "local", "fcp", "fedcp_qq", "dp_fedcp"}) {
    auto m = make(name);
    double prev = std::numeric_limits<double>::infinity();
    for (double alpha : {0.02, 0.05, 0.1, 0.2, 0.3}) {
      at::Generator g = seeded(0);
      at::Tensor th = m->calibrate(s.data, alpha, g, quiet()).threshold;
      const double size = evaluate_sets(s.test_scores[0], s.test_labels[0], th).mean_size;
      INFO(name << " alpha=" << alpha);
      CHECK(size <= prev);
      prev = size;
    }
  }
}

TEST_CASE("fedcp_qq: quantile-of-quantiles coverage, exact for one client and valid on exchangeable data",
          "[conformal]") {
  // One client: the l-th of n uniforms has mean l / (n + 1).
  CHECK(qq_coverage(50, 1, 45, 1) == Approx(45.0 / 51).margin(1e-6));
  // The official code's M for m = 5 clients of n = 10 points at (l = 10, k = 3): 0.9256259545517654
  // (pierreHmbt/FedCP-QQ, computation_of_M.ipynb, the pair it selects for alpha = 0.1).
  CHECK(qq_coverage(10, 5, 10, 3) == Approx(0.9256259545517654).margin(1e-9));
  // Coverage grows with l and with k.
  CHECK(qq_coverage(50, 5, 40, 2) < qq_coverage(50, 5, 41, 2));
  CHECK(qq_coverage(50, 5, 40, 2) < qq_coverage(50, 5, 40, 3));
  // On exchangeable clients its mean coverage is at least 1 - alpha (up to Monte Carlo error).
  const int64_t reps = 300;
  auto qq = make("fedcp_qq");
  double cov = 0;
  for (int64_t r = 0; r < reps; ++r) {
    Synthetic s = make_synthetic(5, 40, 40, 1000 + r, /*concentration=*/1e6);  // ~uniform labels everywhere
    at::Generator g = seeded(0);
    at::Tensor th = qq->calibrate(s.data, 0.1, g, quiet()).threshold;
    cov += evaluate_sets(s.test_scores[0], s.test_labels[0], th).coverage / reps;
  }
  CHECK(cov >= 0.9 - 0.012);
  // Unequal client sizes are refused with a DataError.
  Synthetic s = make_synthetic(2, 30, 1, 1);
  s.data.clients[1].scores = s.data.clients[1].scores.slice(0, 0, 20);
  s.data.clients[1].labels = s.data.clients[1].labels.slice(0, 0, 20);
  at::Generator g = seeded(0);
  CHECK_THROWS_AS(qq->calibrate(s.data, 0.1, g, quiet()), DataError);
}

TEST_CASE("local: needs a target client", "[conformal]") {
  Synthetic s = make_synthetic(2, 30, 1, 1);
  s.data.target_client = -1;
  at::Generator g = seeded(0);
  CHECK_THROWS_AS(make("local")->calibrate(s.data, 0.1, g, quiet()), DataError);
}


TEST_CASE("dp_fedcp: a target epsilon calibrates z over the K x T releases; the accountant's epsilon meets it",
          "[conformal][privacy]") {
  Synthetic s = make_synthetic(3, 60, 1, 11);
  const int64_t rounds = 300, releases = s.data.num_classes * rounds;
  at::Generator g = seeded(5);
  auto m4 = make("dp_fedcp", {{"rounds", Value(rounds)}, {"epsilon", Value(4.0)}});
  ConformalThresholds t4 = m4->calibrate(s.data, 0.1, g, quiet());
  REQUIRE(t4.epsilon);
  CHECK(t4.noise_multiplier == dp::calibrate_noise_multiplier(4.0, 1e-5, 1.0, releases));
  CHECK(*t4.epsilon <= 4.0);
  CHECK(*t4.epsilon >= 3.99);
  // Full-batch Gaussian releases compose to RDP releases * a / (2 z^2) at order a; the classic
  // conversion eps = rdp + log(1/delta) / (a - 1) bounds what the accountant reports (it uses a
  // tighter conversion), and the bound is within a few percent of it at its best order.
  double classic = std::numeric_limits<double>::infinity();
  for (double a : dp::default_rdp_orders())
    classic = std::min(classic, static_cast<double>(releases) * a / (2 * t4.noise_multiplier * t4.noise_multiplier) +
                                    std::log(1e5) / (a - 1));
  CHECK(*t4.epsilon <= classic);
  CHECK(*t4.epsilon > 0.8 * classic);
  // Less privacy, less noise; no noise, no epsilon; both knobs at once is refused.
  auto m16 = make("dp_fedcp", {{"rounds", Value(rounds)}, {"epsilon", Value(16.0)}});
  CHECK(m16->calibrate(s.data, 0.1, g, quiet()).noise_multiplier < t4.noise_multiplier);
  auto plain = make("dp_fedcp", {{"rounds", Value(rounds)}});
  CHECK_FALSE(plain->calibrate(s.data, 0.1, g, quiet()).epsilon);
  CHECK_THROWS_AS(make("dp_fedcp", {{"epsilon", Value(4.0)}, {"noise_multiplier", Value(1.0)}}), ConfigError);
}
