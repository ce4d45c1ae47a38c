// The conformal suite: federated conformal prediction under label shift on a synthetic task with
// exact class probabilities (methods/common/conformal_synthetic.h). Each repetition draws the task,
// the clients' label distributions (Dirichlet) and their calibration and test sets; every client in
// turn is the target, the row's ConformalMethod calibrates for it, and its sets are scored on that
// client's test points. Metrics are means over clients, then mean +- std over repetitions.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <vector>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "core/error.h"
#include "core/repetitions.h"
#include "core/run_context.h"
#include "core/suite_registry.h"
#include "core/table_spec.h"
#include "methods/api/conformal_method.h"
#include "methods/common/conformal_scores.h"
#include "methods/common/conformal_synthetic.h"

namespace repro {
namespace {

// One client's data: calibration scores of the true labels, and every label's test scores.
struct ClientData {
  ClientScores cal;
  at::Tensor test_scores;  // [n_test, K] fp64
  at::Tensor test_labels;  // [n_test] int64
};

at::Tensor label_frequencies(const at::Tensor& labels, int64_t k) {
  return at::bincount(labels, {}, k).to(at::kDouble) / static_cast<double>(labels.numel());
}

class ConformalSuite : public Suite {
 public:
  static const SuiteInfo& static_info() {
    static const SuiteInfo info = [] {
      SuiteInfo i;
      i.name = "conformal";
      i.family = Suite::kFamily;
      i.summary = "federated conformal prediction under label shift: coverage and set size per target client";
      i.version = "1";
      i.params = {
          param_float("alpha", 0.1, "miscoverage level: sets aim at coverage >= 1 - alpha").above(0).below(1),
          param_string("task", "gaussian_mixture", "the classification task (synthetic, exact probabilities)",
                       {"gaussian_mixture"}),
          param_int("num_classes", 10, "K").at_least(2),
          param_int("dim", 8, "feature dimension d").at_least(1),
          param_float("separation", 2.0, "class means ~ separation * N(0, I_d)").above(0),
          param_float("std_min", 0.5, "noise std of class 0 (the easiest)").above(0),
          param_float("std_max", 2.0, "noise std of class K-1 (the hardest); linear in between").above(0),
          param_int("clients", 10, "number of clients (agents)").at_least(1),
          param_float("concentration", 0.5, "Dirichlet concentration of each client's label law (small = skewed)")
              .above(0),
          param_float("label_floor", 0.005, "each class's share of a client's label law is at least this").at_least(0),
          param_int("calibration_per_client", 100, "calibration points per client").at_least(1),
          param_int("test_per_client", 500, "test points per client (from its own label law)").at_least(1),
          param_string("score", "lac", "nonconformity score: lac = 1 - p_y, aps = randomized APS", {"lac", "aps"}),
          param_string("label_dist", "true",
                       "label laws given to the methods: the clients' true ones, or their calibration label "
                       "frequencies",
                       {"true", "empirical"}),
          repeats_param(1),
      };
      i.slots = {{"method", ConformalMethod::kFamily, false, "the conformal method that sets the thresholds"}};
      i.metrics = {
          {"coverage", Better::None, "test coverage, mean over target clients", 4},
          {"coverage_gap", Better::None, "coverage - (1 - alpha)", 3},
          {"worst_coverage", Better::Higher, "the lowest target client's coverage", 4},
          {"shifted_coverage", Better::None,
           "coverage on the client whose labels lean most to the hard classes (max sum_y (pi_j - pi_cal)(y) sigma_y)", 4},
          {"shifted_gap", Better::None, "shifted_coverage - (1 - alpha)", 3},
          {"set_size", Better::Lower, "labels per prediction set, mean over target clients", 4},
          {"infinite", Better::Lower, "fraction of (client, label) thresholds that are +inf (label always in)", 3},
          {"alpha", Better::None, "the row's alpha", 3},
          {"calibrate_ms", Better::Lower, "milliseconds per calibrate() call", 3},
      };
      return i;
    }();
    return info;
  }
  const SuiteInfo& info() const override { return static_info(); }

  nlohmann::json fingerprint(const RowSpec& row, RunContext&) override {
    const Params& p = row.suite_params;
    return {{"model", {{"name", fmt::format("bayes gaussian_mixture K={} d={}", p.get_int("num_classes"),
                                            p.get_int("dim"))}}},
            {"data", {{"calibration", "synthetic"}}}};
  }

  Record run_row(const RowSpec& row, RunContext& ctx) override {
    const Params& p = row.suite_params;
    const Component* c = row.first("method");
    if (!c) throw ConfigError(fmt::format("row '{}': the conformal suite needs `method = ...`", row.display));
    if (p.get_float("std_min") > p.get_float("std_max")) p.fail("std_max", "must be at least std_min");
    if (p.get_float("label_floor") * static_cast<double>(p.get_int("num_classes")) >= 1.0)
      p.fail("label_floor", "must be below 1 / num_classes");
    auto method = Registry<ConformalMethod>::instance().create(c->method);
    method->configure(c->params);
    const double alpha = p.get_float("alpha");

    Record rec;
    repeat_metrics(repeats_of(p), ctx, rec, [&](int64_t) { return run_once(p, *method, alpha, ctx); });
    rec.metrics["alpha"] = alpha;
    return rec;
  }

 private:
  static std::map<std::string, double> run_once(const Params& p, ConformalMethod& method, double alpha,
                                                RunContext& ctx) {
    at::Generator gen = ctx.generator("conformal.data");
    GaussianMixtureOptions o;
    o.num_classes = p.get_int("num_classes");
    o.dim = p.get_int("dim");
    o.separation = p.get_float("separation");
    o.std_min = p.get_float("std_min");
    o.std_max = p.get_float("std_max");
    const int64_t k = o.num_classes, n = p.get_int("clients");
    GaussianMixtureTask task = make_gaussian_mixture_task(o, gen);
    at::Tensor pi = dirichlet_label_dists(n, k, p.get_float("concentration"), p.get_float("label_floor"), gen);
    const bool aps = p.get_string("score") == "aps";

    auto scores_of = [&](const at::Tensor& labels) {
      at::Tensor probs = task.probs(task.sample(labels, gen));
      return aps ? aps_scores(probs, /*randomized=*/true, gen) : lac_scores(probs);
    };
    std::vector<ClientData> clients(n);
    FederatedScores data;
    data.num_classes = k;
    for (int64_t i = 0; i < n; ++i) {
      at::Tensor cal_labels = sample_labels(pi[i], p.get_int("calibration_per_client"), gen);
      clients[i].cal = {true_label_scores(scores_of(cal_labels), cal_labels), cal_labels};
      clients[i].test_labels = sample_labels(pi[i], p.get_int("test_per_client"), gen);
      clients[i].test_scores = scores_of(clients[i].test_labels);
      data.clients.push_back(clients[i].cal);
    }
    if (p.get_string("label_dist") == "true") {
      data.client_label_dist = pi;
    } else {
      data.client_label_dist = at::stack([&] {
        std::vector<at::Tensor> rows;
        for (const auto& cd : clients) rows.push_back(label_frequencies(cd.cal.labels, k));
        return rows;
      }());
    }
    // The client whose label law leans most toward the noisy (hard) classes, by the true laws.
    at::Tensor pi_cal = calibration_label_dist(FederatedScores{data.clients, k, pi, pi[0], -1});
    const int64_t shifted = ((pi - pi_cal.unsqueeze(0)) * task.stds.unsqueeze(0)).sum(1).argmax().item<int64_t>();

    std::vector<double> coverage(n), size(n);
    double infinite = 0, calibrate_ms = 0;
    for (int64_t j = 0; j < n; ++j) {
      data.target_client = j;
      data.target_label_dist = data.client_label_dist[j];
      at::Generator mgen = ctx.generator(fmt::format("conformal.method.client{}", j));
      auto t0 = std::chrono::steady_clock::now();
      ConformalThresholds th = method.calibrate(data, alpha, mgen, ctx);
      calibrate_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      REPRO_ASSERT(th.threshold.numel() == k, "ConformalMethod returned thresholds of the wrong length");
      SetQuality q = evaluate_sets(clients[j].test_scores, clients[j].test_labels, th.threshold);
      coverage[j] = q.coverage;
      size[j] = q.mean_size;
      infinite += at::isinf(th.threshold).sum().item<double>() / static_cast<double>(k * n);
    }
    const double mean_cov = std::accumulate(coverage.begin(), coverage.end(), 0.0) / static_cast<double>(n);
    return {
        {"coverage", mean_cov},
        {"coverage_gap", mean_cov - (1.0 - alpha)},
        {"worst_coverage", *std::min_element(coverage.begin(), coverage.end())},
        {"shifted_coverage", coverage[shifted]},
        {"shifted_gap", coverage[shifted] - (1.0 - alpha)},
        {"set_size", std::accumulate(size.begin(), size.end(), 0.0) / static_cast<double>(n)},
        {"infinite", infinite},
        {"calibrate_ms", calibrate_ms / static_cast<double>(n)},
    };
  }
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_SUITE(repro::ConformalSuite);
