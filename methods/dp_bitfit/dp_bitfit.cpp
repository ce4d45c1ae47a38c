// dp_bitfit: DP-BitFit, trains the head, every bias and every norm with DP-SGD
// (Makni et al., SPARTA, arXiv 2503.12822, its baseline "dp_bitfit" in the official code
// mazumder-lab/SPARTA, src/train_cifar.py). See README.md in this folder.

#include "methods/common/private_training.h"

namespace repro {
namespace {

class DpBitfit final : public RolePrivateTrainer {
 public:
  DpBitfit() : RolePrivateTrainer({ParamRole::Head, ParamRole::Bias, ParamRole::Norm}) {}
  static const MethodInfo& static_info() {
    static const MethodInfo info{"dp_bitfit",
                                 PrivateTrainer::kFamily,
                                 "DP-BitFit: DP-SGD on the head, the biases and the norms",
                                 "Makni et al. 2025 (SPARTA baseline), arXiv 2503.12822",
                                 "1",
                                 private_training_params()};
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_METHOD(PrivateTrainer, repro::DpBitfit);
