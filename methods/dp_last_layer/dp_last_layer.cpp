// dp_last_layer: trains the classifier head only with DP-SGD
// (Makni et al., SPARTA, arXiv 2503.12822, its baseline "linear_probing" in the official code
// mazumder-lab/SPARTA, src/train_cifar.py). See README.md in this folder.

#include "methods/common/private_training.h"

namespace repro {
namespace {

class DpLastLayer final : public RolePrivateTrainer {
 public:
  DpLastLayer() : RolePrivateTrainer({ParamRole::Head}) {}
  static const MethodInfo& static_info() {
    static const MethodInfo info{"dp_last_layer",
                                 PrivateTrainer::kFamily,
                                 "DP-SGD on the classifier head only (linear probing)",
                                 "Makni et al. 2025 (SPARTA baseline), arXiv 2503.12822",
                                 "1",
                                 private_training_params()};
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_METHOD(PrivateTrainer, repro::DpLastLayer);
