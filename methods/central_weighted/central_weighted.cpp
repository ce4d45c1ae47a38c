// central_weighted: all calibration scores pooled at one place, exact weighted split conformal
// under label shift (Tibshirani et al. 2019, arXiv 1904.06019, sec. 2; the label-shift weights of
// Plassier et al. 2023, arXiv 2306.05131, sec. 2). The oracle the federated methods approximate.

#include "methods/api/conformal_method.h"
#include "methods/common/conformal_scores.h"

namespace repro {
namespace {

class CentralWeighted final : public ConformalMethod {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info{"central_weighted", ConformalMethod::kFamily,
                                 "pooled calibration, exact importance-weighted conformal quantile (oracle)",
                                 "Tibshirani et al. 2019, arXiv 1904.06019", "1", {}};
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }
  void configure(const Params&) override {}

  ConformalThresholds calibrate(const FederatedScores& data, double alpha, at::Generator&, RunContext&) override {
    return {weighted_conformal_thresholds(pool(data), label_shift_weights(data), alpha)};
  }
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_METHOD(ConformalMethod, repro::CentralWeighted);
