// unweighted_federated: split conformal on the pooled scores of all clients, ignoring label shift
// (every weight 1): the threshold is the ceil((1 - alpha)(N + 1))-th smallest pooled score for
// every label. Valid when the target shares the pooled label law; the baseline that label-shift
// weighting corrects.

#include <ATen/ATen.h>

#include "methods/api/conformal_method.h"
#include "methods/common/conformal_scores.h"

namespace repro {
namespace {

class UnweightedFederated final : public ConformalMethod {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info{"unweighted_federated", ConformalMethod::kFamily,
                                 "pooled split conformal quantile, no label-shift weights", "", "1", {}};
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }
  void configure(const Params&) override {}

  ConformalThresholds calibrate(const FederatedScores& data, double alpha, at::Generator&, RunContext&) override {
    const double q = split_conformal_quantile(pool(data).scores, alpha);
    return {at::full({data.num_classes}, q, at::kDouble)};
  }
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_METHOD(ConformalMethod, repro::UnweightedFederated);
