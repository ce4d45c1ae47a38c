// dp_fedcp: DP-FedCP (Plassier, Makni, Rubashevskii, Moulines, Panov, ICML 2023, arXiv 2306.05131):
// federated conformal prediction under label shift. The server learns the label-shift importance
// weights w(y) = pi_test(y) / pi_cal(y) from the clients' label distributions, then finds each
// label's conformal threshold as the minimizer of the importance-weighted, smoothed pinball loss
// summed over clients, by T rounds of gradient steps in which each client sends its gradient plus
// optional Gaussian noise (local DP toward the server). Only the abstract of the paper could be
// checked; the smoothing form, step rule, defaults and noise calibration are reconstructions
// listed in README.md.

#include "core/params.h"
#include "methods/api/conformal_method.h"
#include "methods/common/conformal_scores.h"
#include "methods/common/federated_quantile.h"
#include "training/dp/rdp_accountant.h"

namespace repro {
namespace {

class DpFedCp final : public ConformalMethod {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info{
        "dp_fedcp",
        ConformalMethod::kFamily,
        "federated importance-weighted quantile by smoothed pinball-loss gradient rounds, optional DP noise",
        "Plassier et al. 2023, arXiv 2306.05131",
        "1",
        {
            param_int("rounds", 1000, "communication rounds T").at_least(1),
            param_float("step_size", 1.0, "eta_0; round t steps eta_0 / sqrt(t + 1)").above(0),
            param_float("smoothing", 1e-3, "gamma of the Moreau-smoothed pinball loss").above(0),
            param_float("noise_multiplier", 0.0,
                        "z: each client's per-round gradient gets N(0, (z Delta)^2), Delta its replace-one "
                        "sensitivity; 0 = no privacy noise")
                .at_least(0),
            param_float("epsilon", 0.0,
                        "target epsilon: z is calibrated so that the K x T Gaussian releases (every label's "
                        "gradient in every round) compose to (epsilon, delta) by RDP; 0 = use noise_multiplier")
                .at_least(0),
            param_float("delta", 1e-5, "target delta of `epsilon`").above(0).below(1),
            param_float("init", 0.5, "q_0 for every label"),
            param_float("lower", 0.0, "iterates are projected to [lower, upper] (the score range)"),
            param_float("upper", 1.0, "upper end of the score range"),
        }};
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }

  void configure(const Params& p) override {
    o_.rounds = p.get_int("rounds");
    o_.step_size = p.get_float("step_size");
    o_.smoothing = p.get_float("smoothing");
    o_.noise_multiplier = p.get_float("noise_multiplier");
    epsilon_ = p.get_float("epsilon");
    delta_ = p.get_float("delta");
    if (epsilon_ > 0 && o_.noise_multiplier > 0)
      p.fail("noise_multiplier", "give either epsilon (z is then calibrated) or noise_multiplier, not both");
    o_.init = p.get_float("init");
    o_.lower = p.get_float("lower");
    o_.upper = p.get_float("upper");
    if (o_.lower > o_.upper) p.fail("upper", "must be at least `lower`");
  }

  ConformalThresholds calibrate(const FederatedScores& data, double alpha, at::Generator& gen, RunContext&) override {
    // Privacy toward the server, per client and per replaced calibration point: every round each
    // client releases K scalar gradients (one per label), each a Gaussian mechanism with noise
    // multiplier z on its replace-one sensitivity, so T rounds compose K * T mechanisms (an upper
    // bound: labels with beta_y >= 1 release nothing). The label laws are public inputs here.
    FederatedQuantileOptions o = o_;
    const int64_t releases = data.num_classes * o.rounds;
    if (epsilon_ > 0) {
      if (calibrated_for_ != releases) {
        z_ = dp::calibrate_noise_multiplier(epsilon_, delta_, 1.0, releases);
        calibrated_for_ = releases;
      }
      o.noise_multiplier = z_;
    }
    ConformalThresholds out{federated_pinball_quantile(data, label_shift_weights(data), alpha, o, gen).threshold};
    out.delta = delta_;
    out.noise_multiplier = o.noise_multiplier;
    if (o.noise_multiplier > 0) {  // without noise nothing is private: no epsilon to report
      dp::RdpAccountant acc;
      acc.compose(1.0, o.noise_multiplier, releases);
      out.epsilon = acc.epsilon(delta_);
    }
    return out;
  }

 private:
  FederatedQuantileOptions o_;
  double epsilon_ = 0, delta_ = 1e-5, z_ = 0;
  int64_t calibrated_for_ = -1;
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_METHOD(ConformalMethod, repro::DpFedCp);
