// fcp: Federated Conformal Prediction (Lu, Yu, Karimireddy, Jordan, Raskar, ICML 2023,
// arXiv 2305.17564). Under partial exchangeability the server uses the
// ceil((1 - alpha)(N + n))-th smallest pooled score, n = number of clients (their Theorem: coverage
// in [1 - alpha, 1 - alpha + n / (N + n)]). Computed exactly here; the paper's clients send
// T-Digest sketches, whose approximation is not modelled. No label-shift weights.

#include <cmath>

#include <ATen/ATen.h>

#include "methods/api/conformal_method.h"
#include "methods/common/conformal_scores.h"

namespace repro {
namespace {

class Fcp final : public ConformalMethod {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info{"fcp", ConformalMethod::kFamily,
                                 "FCP: the ceil((1-alpha)(N+n))-th pooled score, exact (no T-Digest)",
                                 "Lu et al. 2023, arXiv 2305.17564", "1", {}};
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }
  void configure(const Params&) override {}

  ConformalThresholds calibrate(const FederatedScores& data, double alpha, at::Generator&, RunContext&) override {
    const double n_total = static_cast<double>(data.total_size()) + static_cast<double>(data.num_clients());
    const auto k = static_cast<int64_t>(std::ceil((1.0 - alpha) * n_total - 1e-9));
    return {at::full({data.num_classes}, order_statistic(pool(data).scores, k), at::kDouble)};
  }
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_METHOD(ConformalMethod, repro::Fcp);
