// dp_head_norm: trains the classifier head and every GroupNorm / LayerNorm weight and bias with DP-SGD
// (Makni et al., SPARTA, arXiv 2503.12822, its baseline "lp_gn" in the official code
// mazumder-lab/SPARTA, src/train_cifar.py). See README.md in this folder.

#include "methods/common/private_training.h"

namespace repro {
namespace {

class DpHeadNorm final : public RolePrivateTrainer {
 public:
  DpHeadNorm() : RolePrivateTrainer({ParamRole::Head, ParamRole::Norm}) {}
  static const MethodInfo& static_info() {
    static const MethodInfo info{"dp_head_norm",
                                 PrivateTrainer::kFamily,
                                 "DP-SGD on the head and the normalisation layers",
                                 "Makni et al. 2025 (SPARTA baseline), arXiv 2503.12822",
                                 "1",
                                 private_training_params()};
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_METHOD(PrivateTrainer, repro::DpHeadNorm);
