// dp_full: trains every parameter that is not Frozen (head, norms, biases, weights) with DP-SGD
// (Makni et al., SPARTA, arXiv 2503.12822, its baseline "all_layers" in the official code
// mazumder-lab/SPARTA, src/train_cifar.py). See README.md in this folder.

#include "methods/common/private_training.h"

namespace repro {
namespace {

class DpFull final : public RolePrivateTrainer {
 public:
  DpFull() : RolePrivateTrainer({ParamRole::Head, ParamRole::Norm, ParamRole::Bias, ParamRole::Maskable}) {}
  static const MethodInfo& static_info() {
    static const MethodInfo info{"dp_full",
                                 PrivateTrainer::kFamily,
                                 "DP-SGD fine-tuning of every parameter that is not Frozen",
                                 "Makni et al. 2025 (SPARTA baseline), arXiv 2503.12822",
                                 "1",
                                 private_training_params()};
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_METHOD(PrivateTrainer, repro::DpFull);
