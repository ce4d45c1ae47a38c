// local: the target client calibrates alone on its own scores (split conformal; its calibration
// data share the target's law, so no weights are needed). Valid, but its sets grow when the
// client holds few points.

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "core/error.h"
#include "methods/api/conformal_method.h"
#include "methods/common/conformal_scores.h"

namespace repro {
namespace {

class LocalConformal final : public ConformalMethod {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info{"local", ConformalMethod::kFamily,
                                 "the target client's own split conformal quantile (no federation)", "", "1", {}};
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }
  void configure(const Params&) override {}

  ConformalThresholds calibrate(const FederatedScores& data, double alpha, at::Generator&, RunContext&) override {
    if (data.target_client < 0 || data.target_client >= data.num_clients())
      throw DataError(fmt::format("conformal method 'local' needs the target to be one of the {} clients "
                                  "(target_client = {})",
                                  data.num_clients(), data.target_client));
    const double q = split_conformal_quantile(client_scores(data, data.target_client).scores, alpha);
    return {at::full({data.num_classes}, q, at::kDouble)};
  }
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_METHOD(ConformalMethod, repro::LocalConformal);
