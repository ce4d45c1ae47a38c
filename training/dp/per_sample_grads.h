#pragma once
// Per-example gradients of a layer's parameters from one batched backward pass: the layer's input
// activations and the gradient of the loss with respect to its output suffice, because each
// parameter's gradient is a sum over examples of a product of the two. This is the "grad sampler"
// of Opacus (opacus/grad_sample/{linear,conv,group_norm,layer_norm,embedding}.py); for linear
// layers the contraction of Goodfellow, "Efficient Per-Example Gradient Computations", arXiv
// 1510.01799; for convolutions one grouped convolution backward with the batch as groups
// (Rochette, Manoel, Tramel, "Efficient Per-Example Gradient Computations in Convolutional Neural
// Networks", arXiv 1912.06015).
//
// Every function takes the layer's input and the gradient of a loss that is the SUM of per-example
// losses with respect to the layer's output (for a mean loss, multiply the result by B), and
// returns per-example gradients in the dtype and on the device of its inputs. No autograd graph is
// recorded. B is dimension 0 everywhere.

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include <ATen/core/Tensor.h>

namespace repro::dp {

// Per-example gradients of a layer's weight and bias; `bias` is undefined for layers without one.
struct LayerGradSample {
  at::Tensor weight;  // [B, *weight.shape]
  at::Tensor bias;    // [B, *bias.shape] or undefined
};

// y = x W^T + b.  x: [B, *, in], grad_out: [B, *, out] (same extra dims, dtype, device)
// -> weight [B, out, in] (summed over the extra dims, e.g. tokens), bias [B, out] if `with_bias`.
LayerGradSample per_sample_grads_linear(const at::Tensor& x, const at::Tensor& grad_out, bool with_bias = true);

// A Conv2d's geometry, as in torch::nn::Conv2dOptions with explicit (zero) padding.
struct Conv2dGeometry {
  std::array<int64_t, 2> kernel_size{1, 1};
  std::array<int64_t, 2> stride{1, 1};
  std::array<int64_t, 2> padding{0, 0};
  std::array<int64_t, 2> dilation{1, 1};
  int64_t groups = 1;
};

// x: [B, C_in, H, W], grad_out: [B, C_out, H_out, W_out]
// -> weight [B, C_out, C_in / groups, kh, kw], bias [B, C_out] if `with_bias`.
LayerGradSample per_sample_grads_conv2d(const at::Tensor& x, const at::Tensor& grad_out, const Conv2dGeometry& geometry,
                                        bool with_bias = true);

// GroupNorm's affine part (y = x_hat * weight[c] + bias[c]).
// x, grad_out: [B, C, *] -> weight [B, C], bias [B, C]: sums over * of x_hat * grad_out and grad_out.
LayerGradSample per_sample_grads_group_norm(const at::Tensor& x, const at::Tensor& grad_out, int64_t num_groups,
                                            double eps);

// LayerNorm's affine part over the trailing `normalized_shape` dims.
// x, grad_out: [B, *, *normalized_shape] -> weight, bias [B, *normalized_shape] (summed over *).
LayerGradSample per_sample_grads_layer_norm(const at::Tensor& x, const at::Tensor& grad_out,
                                            const std::vector<int64_t>& normalized_shape, double eps);

// indices: [B, *] int64 in [0, num_embeddings), grad_out: [B, *, D]
// -> weight [B, num_embeddings, D] (rows of repeated indices accumulate; the row of `padding_idx`,
// if given, stays zero as in torch.nn.Embedding); no bias. Dense: B * num_embeddings * D values.
LayerGradSample per_sample_grads_embedding(const at::Tensor& indices, const at::Tensor& grad_out,
                                           int64_t num_embeddings, std::optional<int64_t> padding_idx = std::nullopt);

}  // namespace repro::dp
