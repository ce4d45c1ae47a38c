#pragma once
// The layer-wise reconstruction objective: ||X W^T - X What^T||_F^2 = tr((W - What) H (W - What)^T).

#include <ATen/core/Tensor.h>

namespace repro {

// tr((W - What) H (W - What)^T): the difference in fp64, the product with H in fp32, the sum in fp64. W, What: [out, in]; H: [in, in]; same device.
double layer_loss(const at::Tensor& W, const at::Tensor& What, const at::Tensor& H);

// layer_loss(W, What, H) / tr(W H W^T): 0 is exact, 1 is as bad as What = 0.
double relative_error(const at::Tensor& W, const at::Tensor& What, const at::Tensor& H);

}  // namespace repro
