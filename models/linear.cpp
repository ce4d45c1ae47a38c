#include "models/linear.h"

#include <ATen/ATen.h>

#include "core/error.h"
#include "models/cpu_kernel_form.h"

namespace repro {

at::Tensor Linear::forward(const at::Tensor& x) const {
  if (on_input) on_input(x);
  if (compressed) {
    // Packed CPU kernels where they apply (fp32 decode-sized inputs); the torch path otherwise.
    at::Tensor y = cpu_kernel_forward(compressed, x);
    if (!y.defined()) y = compressed->forward(x);
    if (bias.defined()) y = y + bias.to(y.scalar_type());
    return y;
  }
  REPRO_ASSERT(weight.defined(), "Linear::forward without a weight or a compressed form");
  // Decode-sized fp32 CPU inputs: the dense kernel (at::linear would run a one-row sgemm).
  if (at::Tensor y = cpu_dense_forward(weight, x); y.defined())
    return bias.defined() ? y + bias.to(y.scalar_type()) : y;
  return at::linear(x, weight, bias);
}

int64_t Linear::out_features() const {
  if (weight.defined()) return weight.size(0);
  return compressed ? compressed->out_features() : 0;
}

int64_t Linear::in_features() const {
  if (weight.defined()) return weight.size(1);
  return compressed ? compressed->in_features() : 0;
}

at::Tensor Linear::dense_weight() const {
  if (compressed) return compressed->dense();
  return weight;
}

}  // namespace repro
