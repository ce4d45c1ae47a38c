// The conformal suite: federated conformal prediction under label shift, on a synthetic task with
// exact class probabilities (methods/common/conformal_synthetic.h) or on an image set scored by a
// frozen classifier (task = "image": its softmax on the set's test split; clients draw iid from that
// empirical population by class). Each repetition draws the task, the clients' label distributions
// (Dirichlet) and their calibration and test sets; every client in turn is the target, the row's
// ConformalMethod calibrates for it, and its sets are scored on that client's test points. Metrics
// are means over clients, then mean +- std over repetitions.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
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
#include "models/vision/vision_factory.h"
#include "suites/eval/image_data.h"
#include "suites/eval/model_identity.h"

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
          param_string("task", "gaussian_mixture",
                       "gaussian_mixture (synthetic, exact probabilities) or image (a frozen classifier's softmax on "
                       "`dataset`'s test split)",
                       {"gaussian_mixture", "image"}),
          param_string("model", "zoo:cnn_fmnist", "task = image: the classifier (zoo:<name> or a folder)"),
          param_string("dataset", "fashion-mnist", "task = image: the image set (its test split; from --data-dir)"),
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
          {"epsilon", Better::None, "privacy spent per calibration, at `delta` (methods with a privacy mechanism)", 3},
          {"noise_multiplier", Better::None, "z of the method's Gaussian releases", 3},
          {"accuracy", Better::None, "task = image: the classifier's top-1 accuracy on the whole test split (%)", 2},
      };
      return i;
    }();
    return info;
  }
  const SuiteInfo& info() const override { return static_info(); }

  nlohmann::json fingerprint(const RowSpec& row, RunContext& ctx) override {
    const Params& p = row.suite_params;
    if (p.get_string("task") == "image")
      return {{"model", model_identity(p.get_string("model"))},
              {"data", image_data_identity(p.get_string("dataset"), image_data_dir(ctx))}};
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
    const ScoredImages* images = nullptr;
    if (p.get_string("task") == "image") {
      auto t = ctx.timer().scope("classify");
      images = &scored_images(p, ctx);
      rec.model = model_identity(p.get_string("model"));
      rec.data = image_data_identity(p.get_string("dataset"), image_data_dir(ctx));
      rec.data["test_examples"] = images->labels.numel();
    }
    repeat_metrics(repeats_of(p), ctx, rec, [&](int64_t) { return run_once(p, *method, alpha, images, ctx); });
    rec.metrics["alpha"] = alpha;
    if (images) rec.metrics["accuracy"] = images->accuracy;
    return rec;
  }

 private:
  // A frozen classifier's softmax on an image set's test split, computed once per (model, dataset).
  struct ScoredImages {
    at::Tensor probs;                 // [N, K] fp64
    at::Tensor labels;                // [N] int64
    std::vector<at::Tensor> by_class; // indices of each class's images
    double accuracy = 0;              // top-1, %
  };

  const ScoredImages& scored_images(const Params& p, RunContext& ctx) {
    const std::string key = p.get_string("model") + "|" + p.get_string("dataset") + "|" + image_data_dir(ctx).string();
    if (auto it = scored_.find(key); it != scored_.end()) return it->second;
    const nlohmann::json id = model_identity(p.get_string("model"));
    auto model = load_vision_model(id["path"].get<std::string>());
    const std::string name = p.get_string("dataset");
    const ImageDatasetInfo& info = image_dataset_info(name);
    if (info.channels != model->in_channels())
      p.fail("dataset", fmt::format("'{}' has {} channel(s), the model takes {}", name, info.channels, model->in_channels()));
    if (info.num_classes != model->num_classes())
      p.fail("dataset", fmt::format("'{}' has {} classes, the classifier {}", name, info.num_classes, model->num_classes()));
    dp::LabeledImages test =
        normalised_images(load_image_dataset(name, image_data_dir(ctx), "test"), info, model->image_size());
    model->to(ctx.device());
    model->eval();
    at::NoGradGuard no_grad;
    std::vector<at::Tensor> parts;
    for (int64_t b = 0; b < test.size(); b += 500)
      parts.push_back(at::softmax(model->forward(test.images.slice(0, b, b + 500).to(ctx.device())).to(at::kDouble), 1).cpu());
    ScoredImages out;
    out.probs = at::cat(parts, 0);
    out.labels = test.labels.to(at::kLong);
    out.accuracy = 100.0 * out.probs.argmax(1).eq(out.labels).to(at::kDouble).mean().item<double>();
    for (int64_t y = 0; y < info.num_classes; ++y) {
      out.by_class.push_back(out.labels.eq(y).nonzero().flatten());
      if (out.by_class.back().numel() == 0) p.fail("dataset", fmt::format("'{}' has no test image of class {}", name, y));
    }
    return scored_.emplace(key, std::move(out)).first->second;
  }

  std::map<std::string, ScoredImages> scored_;

  static std::map<std::string, double> run_once(const Params& p, ConformalMethod& method, double alpha,
                                                const ScoredImages* images, RunContext& ctx) {
    at::Generator gen = ctx.generator("conformal.data");
    GaussianMixtureOptions o;
    o.num_classes = images ? images->probs.size(1) : p.get_int("num_classes");
    o.dim = p.get_int("dim");
    o.separation = p.get_float("separation");
    o.std_min = p.get_float("std_min");
    o.std_max = p.get_float("std_max");
    const int64_t k = o.num_classes, n = p.get_int("clients");
    GaussianMixtureTask task;
    if (!images) task = make_gaussian_mixture_task(o, gen);
    at::Tensor pi = dirichlet_label_dists(n, k, p.get_float("concentration"), p.get_float("label_floor"), gen);
    const bool aps = p.get_string("score") == "aps";

    // Image task: each label draws an image of its class uniformly (iid from the test split's
    // empirical population, so exchangeability within a client holds exactly).
    auto probs_of = [&](const at::Tensor& labels) {
      if (!images) return task.probs(task.sample(labels, gen));
      std::vector<int64_t> rows(labels.numel());
      const int64_t* lp = labels.data_ptr<int64_t>();
      for (size_t r = 0; r < rows.size(); ++r) {
        const at::Tensor& pool = images->by_class[lp[r]];
        const int64_t j = at::randint(pool.numel(), {1}, gen, at::kLong).item<int64_t>();
        rows[r] = pool[j].item<int64_t>();
      }
      return images->probs.index_select(0, at::tensor(rows, at::kLong));
    };
    auto scores_of = [&](const at::Tensor& labels) {
      at::Tensor probs = probs_of(labels);
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
    // The client whose label law leans most toward the hard classes, by the true laws: the noisiest
    // classes of the mixture, the classes the classifier gets wrong most often on images.
    at::Tensor pi_cal = calibration_label_dist(FederatedScores{data.clients, k, pi, pi[0], -1});
    const at::Tensor hardness = images ? class_error_rates(*images, k) : task.stds;
    const int64_t shifted = ((pi - pi_cal.unsqueeze(0)) * hardness.unsqueeze(0)).sum(1).argmax().item<int64_t>();

    std::vector<double> coverage(n), size(n);
    double infinite = 0, calibrate_ms = 0;
    std::optional<double> epsilon;
    double noise_multiplier = 0;
    for (int64_t j = 0; j < n; ++j) {
      data.target_client = j;
      data.target_label_dist = data.client_label_dist[j];
      at::Generator mgen = ctx.generator(fmt::format("conformal.method.client{}", j));
      auto t0 = std::chrono::steady_clock::now();
      ConformalThresholds th = method.calibrate(data, alpha, mgen, ctx);
      calibrate_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      REPRO_ASSERT(th.threshold.numel() == k, "ConformalMethod returned thresholds of the wrong length");
      if (th.epsilon) epsilon = std::max(epsilon.value_or(0.0), *th.epsilon);  // every target's calibration spends it
      noise_multiplier = th.noise_multiplier;
      SetQuality q = evaluate_sets(clients[j].test_scores, clients[j].test_labels, th.threshold);
      coverage[j] = q.coverage;
      size[j] = q.mean_size;
      infinite += at::isinf(th.threshold).sum().item<double>() / static_cast<double>(k * n);
    }
    const double mean_cov = std::accumulate(coverage.begin(), coverage.end(), 0.0) / static_cast<double>(n);
    std::map<std::string, double> privacy;
    if (epsilon) privacy = {{"epsilon", *epsilon}, {"noise_multiplier", noise_multiplier}};
    std::map<std::string, double> out = {
        {"coverage", mean_cov},
        {"coverage_gap", mean_cov - (1.0 - alpha)},
        {"worst_coverage", *std::min_element(coverage.begin(), coverage.end())},
        {"shifted_coverage", coverage[shifted]},
        {"shifted_gap", coverage[shifted] - (1.0 - alpha)},
        {"set_size", std::accumulate(size.begin(), size.end(), 0.0) / static_cast<double>(n)},
        {"infinite", infinite},
        {"calibrate_ms", calibrate_ms / static_cast<double>(n)},
    };
    out.insert(privacy.begin(), privacy.end());
    return out;
  }

  // Per class, the classifier's error rate on the test split.
  static at::Tensor class_error_rates(const ScoredImages& images, int64_t k) {
    at::Tensor wrong = images.probs.argmax(1).ne(images.labels).to(at::kDouble);
    at::Tensor out = at::zeros({k}, at::kDouble);
    for (int64_t y = 0; y < k; ++y) out[y] = wrong.index_select(0, images.by_class[y]).mean();
    return out;
  }
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_SUITE(repro::ConformalSuite);
