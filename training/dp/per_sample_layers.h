#pragma once
// torch::nn layers that record per-example gradients of their parameters during an ordinary
// batched backward pass, and the helpers that collect them from a model.
//
// libtorch has no module forward/backward hooks (Opacus's mechanism), so each supported layer has
// an explicit twin here: PerSampleLinear, PerSampleConv2d, PerSampleGroupNorm, PerSampleLayerNorm
// and PerSampleEmbedding compute the same forward as their torch::nn counterparts (and share their
// parameters when built from one) and, when the output requires grad and one of their parameters
// does, register a tensor hook on the output (frozen parameters get no per-example gradients). During backward the hook receives dL/d(output); together with the input saved by
// the forward it gives the per-example gradients (training/dp/per_sample_grads.h), which the layer
// adds to its running per-sample gradients. See README.md in this folder.
//
//   auto net = with_grad_samples(plain_sequential);  // or build the model from PerSample* layers
//   clear_grad_samples(*net);
//   net->forward(x);  loss_sum.backward();            // loss = SUM of per-example losses
//   auto gs = collect_grad_samples(*net);             // one [B, *shape] tensor per trainable parameter
//
// Limits: a parameter shared by two layers is not supported; BatchNorm cannot have per-example
// gradients (it mixes examples) and is rejected like any other unsupported layer with parameters.
// (An in-place op on a PerSample layer's output is fine: a tensor hook receives the gradient with
// respect to the value it was registered on; a test pins this.)

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include "training/dp/per_sample_grads.h"

namespace repro::dp {

// While one is alive on a thread, PerSample layers forward on that thread record nothing: plain
// (non-private) training of the same model, e.g. pretraining a zoo model, pays no per-example cost.
// Opacus's GradSampleModule.disable_hooks() / enable_hooks(), scoped. Nests.
class GradSampleHooksOff {
 public:
  GradSampleHooksOff();
  ~GradSampleHooksOff();
  GradSampleHooksOff(const GradSampleHooksOff&) = delete;
  GradSampleHooksOff& operator=(const GradSampleHooksOff&) = delete;
  // True while a GradSampleHooksOff is alive on this thread.
  static bool active();
};

// The per-example gradients one layer accumulates over backward passes (several forwards of the
// same layer before one backward add up, as gradients do).
class GradSampleLayer {
 public:
  GradSampleLayer();
  virtual ~GradSampleLayer() = default;

  // The per-example gradient of the layer's weight and bias: [B, *param.shape]; undefined until a
  // backward pass reached the layer after the last clear.
  const LayerGradSample& grad_sample() const { return state_->sum; }
  void clear_grad_sample() { state_->sum = {}; }

 protected:
  using GradSampleFn = std::function<LayerGradSample(const at::Tensor& input, const at::Tensor& grad_out)>;
  // Called by forward(): if `output` requires grad, registers the hook that turns (input,
  // dL/d output) into per-example gradients with `fn` and accumulates them.
  void capture(const at::Tensor& output, const at::Tensor& input, GradSampleFn fn) const;

 private:
  // Shared with the hooks still pending in autograd graphs, so a layer destroyed before backward
  // leaves no dangling pointer.
  struct State {
    LayerGradSample sum;
  };
  std::shared_ptr<State> state_;
};

// torch::nn::Linear with per-example gradients.
class PerSampleLinearImpl : public torch::nn::Module, public GradSampleLayer {
 public:
  explicit PerSampleLinearImpl(const torch::nn::LinearOptions& options);  // initialised as torch::nn::Linear
  explicit PerSampleLinearImpl(const torch::nn::Linear& layer);           // shares layer's weight and bias
  PerSampleLinearImpl(int64_t in_features, int64_t out_features)
      : PerSampleLinearImpl(torch::nn::LinearOptions(in_features, out_features)) {}
  at::Tensor forward(const at::Tensor& x);  // x: [B, *, in] -> [B, *, out]
  at::Tensor weight, bias;                  // [out, in], [out] (undefined without bias)
};
TORCH_MODULE(PerSampleLinear);

// torch::nn::Conv2d (zero padding, any stride, dilation, groups) with per-example gradients.
// Throws NotSupported for other padding modes and for "same" padding that would be asymmetric.
class PerSampleConv2dImpl : public torch::nn::Module, public GradSampleLayer {
 public:
  explicit PerSampleConv2dImpl(const torch::nn::Conv2dOptions& options);
  explicit PerSampleConv2dImpl(const torch::nn::Conv2d& layer);
  at::Tensor forward(const at::Tensor& x);  // x: [B, C_in, H, W] -> [B, C_out, H_out, W_out]
  const Conv2dGeometry& geometry() const { return geometry_; }
  at::Tensor weight, bias;  // [C_out, C_in / groups, kh, kw], [C_out]

 private:
  Conv2dGeometry geometry_;
};
TORCH_MODULE(PerSampleConv2d);

// torch::nn::GroupNorm with per-example gradients of its affine weight and bias.
class PerSampleGroupNormImpl : public torch::nn::Module, public GradSampleLayer {
 public:
  explicit PerSampleGroupNormImpl(const torch::nn::GroupNormOptions& options);
  explicit PerSampleGroupNormImpl(const torch::nn::GroupNorm& layer);
  PerSampleGroupNormImpl(int64_t num_groups, int64_t num_channels)
      : PerSampleGroupNormImpl(torch::nn::GroupNormOptions(num_groups, num_channels)) {}
  at::Tensor forward(const at::Tensor& x);  // x: [B, C, *] -> same shape
  at::Tensor weight, bias;                  // [C] each (undefined without affine)

 private:
  int64_t num_groups_;
  double eps_;
};
TORCH_MODULE(PerSampleGroupNorm);

// torch::nn::LayerNorm with per-example gradients of its elementwise affine weight and bias.
class PerSampleLayerNormImpl : public torch::nn::Module, public GradSampleLayer {
 public:
  explicit PerSampleLayerNormImpl(const torch::nn::LayerNormOptions& options);
  explicit PerSampleLayerNormImpl(const torch::nn::LayerNorm& layer);
  at::Tensor forward(const at::Tensor& x);  // x: [B, *, *normalized_shape] -> same shape
  at::Tensor weight, bias;                  // [*normalized_shape] each (undefined without affine)

 private:
  std::vector<int64_t> normalized_shape_;
  double eps_;
};
TORCH_MODULE(PerSampleLayerNorm);

// torch::nn::Embedding (dense gradients, no max_norm, no scale_grad_by_freq) with per-example
// gradients; throws NotSupported for the other options.
class PerSampleEmbeddingImpl : public torch::nn::Module, public GradSampleLayer {
 public:
  explicit PerSampleEmbeddingImpl(const torch::nn::EmbeddingOptions& options);
  explicit PerSampleEmbeddingImpl(const torch::nn::Embedding& layer);
  PerSampleEmbeddingImpl(int64_t num_embeddings, int64_t embedding_dim)
      : PerSampleEmbeddingImpl(torch::nn::EmbeddingOptions(num_embeddings, embedding_dim)) {}
  at::Tensor forward(const at::Tensor& indices);  // indices: [B, *] int64 -> [B, *, D]
  at::Tensor weight;                              // [num_embeddings, D]

 private:
  std::optional<int64_t> padding_idx_;
};
TORCH_MODULE(PerSampleEmbedding);

// A copy of `net` in which every Linear, Conv2d, GroupNorm, LayerNorm and Embedding is replaced by
// its PerSample twin sharing the same parameter tensors; modules without trainable parameters
// (activations, pooling, Flatten, ...) and PerSample layers are kept as they are. Throws
// NotSupported, naming the module, for any other module with a trainable parameter (BatchNorm, a
// custom module, ...). Models that are not one flat Sequential build their layers from the
// PerSample twins directly; collect_grad_samples() works on any module tree.
torch::nn::Sequential with_grad_samples(const torch::nn::Sequential& net);

// How the loss that was backpropagated combines the per-example losses.
enum class LossReduction { kSum, kMean };

struct ParamGradSample {
  std::string name;        // as in module.named_parameters()
  at::Tensor param;        // the parameter
  at::Tensor grad_sample;  // [B, *param.shape]
};

// Every trainable parameter of `module` (module.named_parameters() order, requires_grad only) with
// its per-example gradient accumulated since the last clear_grad_samples(). With kMean the
// gradients are multiplied by B, undoing the 1/B of a mean loss (Opacus's loss_reduction="mean").
// A trainable parameter of a PerSample layer that backward did not reach gets zeros.
// Throws NotSupported for a trainable parameter outside the PerSample layers, and Error when no
// layer has per-example gradients (no backward since the last clear).
std::vector<ParamGradSample> collect_grad_samples(const torch::nn::Module& module,
                                                  LossReduction reduction = LossReduction::kSum);

// Forgets the per-example gradients of every PerSample layer in `module` (call once per lot, or per
// physical batch after its clipped sum was taken).
void clear_grad_samples(torch::nn::Module& module);

}  // namespace repro::dp
