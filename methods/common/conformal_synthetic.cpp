#include "methods/common/conformal_synthetic.h"

#include <cmath>

#include <ATen/ATen.h>

#include "core/error.h"

namespace repro {

namespace {
at::TensorOptions f64() { return at::TensorOptions().dtype(at::kDouble); }
}  // namespace

GaussianMixtureTask make_gaussian_mixture_task(const GaussianMixtureOptions& o, at::Generator& gen) {
  REPRO_ASSERT(o.num_classes >= 2 && o.dim >= 1 && o.std_min > 0 && o.std_max > 0,
               "GaussianMixtureOptions: need K >= 2, d >= 1 and positive stds");
  GaussianMixtureTask t;
  t.means = at::randn({o.num_classes, o.dim}, gen, f64()) * o.separation;
  t.stds = at::linspace(o.std_min, o.std_max, o.num_classes, f64());
  return t;
}

at::Tensor GaussianMixtureTask::sample(const at::Tensor& labels, at::Generator& gen) const {
  at::Tensor y = labels.to(at::kLong);
  at::Tensor z = at::randn({y.size(0), dim()}, gen, f64());
  return means.index_select(0, y) + z * stds.index_select(0, y).unsqueeze(1);
}

at::Tensor GaussianMixtureTask::probs(const at::Tensor& X) const {
  // log N(x; mu_y, s_y^2 I) = -||x - mu_y||^2 / (2 s_y^2) - d log s_y + const.
  at::Tensor d2 = (X.to(at::kDouble).unsqueeze(1) - means.unsqueeze(0)).pow(2).sum(2);  // [N, K]
  at::Tensor logp = -d2 / (2.0 * stds.pow(2)).unsqueeze(0) - static_cast<double>(dim()) * stds.log().unsqueeze(0);
  return at::softmax(logp, 1);
}

at::Tensor dirichlet_label_dists(int64_t num_clients, int64_t num_classes, double concentration, double floor,
                                 at::Generator& gen) {
  REPRO_ASSERT(concentration > 0 && floor >= 0 && floor * static_cast<double>(num_classes) < 1,
               "dirichlet_label_dists: concentration > 0 and 0 <= floor < 1/K");
  at::Tensor g = at::_standard_gamma(at::full({num_clients, num_classes}, concentration, f64()), gen);
  at::Tensor pi = g / g.sum(1, true);
  pi = pi.clamp_min(floor);
  return pi / pi.sum(1, true);
}

at::Tensor sample_labels(const at::Tensor& pi, int64_t n, at::Generator& gen) {
  return at::multinomial(pi.to(at::kDouble), n, /*replacement=*/true, gen);
}

}  // namespace repro
