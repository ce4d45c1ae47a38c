#include "training/dp/per_sample_layers.h"

#include <ATen/ATen.h>

#include <map>

#include "core/error.h"

namespace repro::dp {

namespace {

// Whether a padding or padding-mode variant holds alternative T. The variants are c10::variant in
// libtorch 1.x and std::variant in 2.x; the unqualified calls find either by argument-dependent
// lookup (C++20 allows it with explicit template arguments).
template <typename T, typename V>
bool holds(const V& v) {
  return get_if<T>(&v) != nullptr;
}

int64_t batch_of(const LayerGradSample& gs) {
  if (gs.weight.defined()) return gs.weight.size(0);
  if (gs.bias.defined()) return gs.bias.size(0);
  return -1;
}

void add_into(at::Tensor& sum, const at::Tensor& more) {
  if (!more.defined()) return;
  if (sum.defined())
    sum.add_(more);
  else
    sum = more;
}

// Whether a layer's parameter (possibly undefined) needs per-example gradients. A frozen parameter
// gets none: a layer downstream of a trainable one still sees its output require grad, and
// computing its frozen weight's per-example gradients would cost B times the weight for nothing.
bool trains(const at::Tensor& p) { return p.defined() && p.requires_grad(); }

bool has_trainable_parameter(const torch::nn::Module& m) {
  for (const auto& p : m.parameters(/*recurse=*/true))
    if (p.requires_grad()) return true;
  return false;
}

}  // namespace

GradSampleLayer::GradSampleLayer() : state_(std::make_shared<State>()) {}

namespace {
thread_local int hooks_off_depth = 0;
}  // namespace

GradSampleHooksOff::GradSampleHooksOff() { ++hooks_off_depth; }
GradSampleHooksOff::~GradSampleHooksOff() { --hooks_off_depth; }
bool GradSampleHooksOff::active() { return hooks_off_depth > 0; }

void GradSampleLayer::capture(const at::Tensor& output, const at::Tensor& input, GradSampleFn fn) const {
  if (!output.requires_grad() || GradSampleHooksOff::active()) return;
  output.register_hook([state = state_, input = input.detach(), fn = std::move(fn)](const at::Tensor& grad_out) {
    LayerGradSample gs = fn(input, grad_out);
    const int64_t have = batch_of(state->sum), got = batch_of(gs);
    if (have >= 0 && got != have)
      throw NotSupported("per-example gradients: a layer saw batches of " + std::to_string(have) + " and " +
                         std::to_string(got) + " examples before one clear_grad_samples()");
    add_into(state->sum.weight, gs.weight);
    add_into(state->sum.bias, gs.bias);
  });
}

// --- Linear

PerSampleLinearImpl::PerSampleLinearImpl(const torch::nn::LinearOptions& options)
    : PerSampleLinearImpl(torch::nn::Linear(options)) {}

PerSampleLinearImpl::PerSampleLinearImpl(const torch::nn::Linear& layer) {
  weight = register_parameter("weight", layer->weight, layer->weight.requires_grad());
  if (layer->bias.defined()) bias = register_parameter("bias", layer->bias, layer->bias.requires_grad());
}

at::Tensor PerSampleLinearImpl::forward(const at::Tensor& x) {
  at::Tensor y = at::linear(x, weight, bias);
  const bool w = weight.requires_grad(), b = trains(bias);
  if (w || b)
    capture(y, x, [w, b](const at::Tensor& in, const at::Tensor& g) {
      if (w) return per_sample_grads_linear(in, g, b);
      LayerGradSample gs;  // a frozen weight (DP-BitFit): only the bias, sum over the extra dims
      gs.bias = g.reshape({g.size(0), -1, g.size(-1)}).sum(1);
      return gs;
    });
  return y;
}

// --- Conv2d

namespace {

Conv2dGeometry conv_geometry(const torch::nn::detail::ConvNdOptions<2>& o) {
  if (!holds<torch::enumtype::kZeros>(o.padding_mode()))
    throw NotSupported("PerSampleConv2d: only zero padding is supported (padding_mode = zeros)");
  Conv2dGeometry g;
  for (int d = 0; d < 2; ++d) {
    g.kernel_size[d] = (*o.kernel_size())[d];
    g.stride[d] = (*o.stride())[d];
    g.dilation[d] = (*o.dilation())[d];
  }
  g.groups = o.groups();
  if (const auto* p = get_if<torch::ExpandingArray<2>>(&o.padding())) {
    g.padding = {(**p)[0], (**p)[1]};
  } else if (holds<torch::enumtype::kValid>(o.padding())) {
    g.padding = {0, 0};
  } else {  // kSame: total padding dilation * (kernel - 1) per dim, split evenly when it can be
    for (int d = 0; d < 2; ++d) {
      const int64_t total = g.dilation[d] * (g.kernel_size[d] - 1);
      if (total % 2 != 0 || g.stride[d] != 1)
        throw NotSupported("PerSampleConv2d: padding 'same' needs stride 1 and an even dilation * (kernel - 1)");
      g.padding[d] = total / 2;
    }
  }
  return g;
}

}  // namespace

PerSampleConv2dImpl::PerSampleConv2dImpl(const torch::nn::Conv2dOptions& options)
    : PerSampleConv2dImpl(torch::nn::Conv2d(options)) {}

PerSampleConv2dImpl::PerSampleConv2dImpl(const torch::nn::Conv2d& layer) : geometry_(conv_geometry(layer->options)) {
  weight = register_parameter("weight", layer->weight, layer->weight.requires_grad());
  if (layer->bias.defined()) bias = register_parameter("bias", layer->bias, layer->bias.requires_grad());
}

at::Tensor PerSampleConv2dImpl::forward(const at::Tensor& x) {
  const Conv2dGeometry& g = geometry_;
  at::Tensor y = at::conv2d(x, weight, bias, g.stride, g.padding, g.dilation, g.groups);
  const bool w = weight.requires_grad(), b = trains(bias);
  if (w || b)
    capture(y, x, [g, w, b](const at::Tensor& in, const at::Tensor& grad) {
      if (w) return per_sample_grads_conv2d(in, grad, g, b);
      LayerGradSample gs;  // a frozen weight: only the bias, sum over the output positions
      gs.bias = grad.reshape({grad.size(0), grad.size(1), -1}).sum(2);
      return gs;
    });
  return y;
}

// --- GroupNorm

PerSampleGroupNormImpl::PerSampleGroupNormImpl(const torch::nn::GroupNormOptions& options)
    : PerSampleGroupNormImpl(torch::nn::GroupNorm(options)) {}

PerSampleGroupNormImpl::PerSampleGroupNormImpl(const torch::nn::GroupNorm& layer)
    : num_groups_(layer->options.num_groups()), eps_(layer->options.eps()) {
  if (layer->weight.defined()) weight = register_parameter("weight", layer->weight, layer->weight.requires_grad());
  if (layer->bias.defined()) bias = register_parameter("bias", layer->bias, layer->bias.requires_grad());
}

at::Tensor PerSampleGroupNormImpl::forward(const at::Tensor& x) {
  at::Tensor y = at::group_norm(x, num_groups_, weight, bias, eps_);
  if (trains(weight) || trains(bias))
    capture(
        y, x,
        [G = num_groups_, eps = eps_, w = trains(weight), b = trains(bias)](const at::Tensor& in, const at::Tensor& g) {
          LayerGradSample gs = per_sample_grads_group_norm(in, g, G, eps);
          if (!w) gs.weight = at::Tensor();
          if (!b) gs.bias = at::Tensor();
          return gs;
        });
  return y;
}

// --- LayerNorm

PerSampleLayerNormImpl::PerSampleLayerNormImpl(const torch::nn::LayerNormOptions& options)
    : PerSampleLayerNormImpl(torch::nn::LayerNorm(options)) {}

PerSampleLayerNormImpl::PerSampleLayerNormImpl(const torch::nn::LayerNorm& layer)
    : normalized_shape_(layer->options.normalized_shape()), eps_(layer->options.eps()) {
  if (layer->weight.defined()) weight = register_parameter("weight", layer->weight, layer->weight.requires_grad());
  if (layer->bias.defined()) bias = register_parameter("bias", layer->bias, layer->bias.requires_grad());
}

at::Tensor PerSampleLayerNormImpl::forward(const at::Tensor& x) {
  at::Tensor y = at::layer_norm(x, normalized_shape_, weight, bias, eps_);
  if (trains(weight) || trains(bias))
    capture(y, x,
            [shape = normalized_shape_, eps = eps_, w = trains(weight), b = trains(bias)](const at::Tensor& in,
                                                                                          const at::Tensor& g) {
              LayerGradSample gs = per_sample_grads_layer_norm(in, g, shape, eps);
              if (!w) gs.weight = at::Tensor();
              if (!b) gs.bias = at::Tensor();
              return gs;
            });
  return y;
}

// --- Embedding

PerSampleEmbeddingImpl::PerSampleEmbeddingImpl(const torch::nn::EmbeddingOptions& options)
    : PerSampleEmbeddingImpl(torch::nn::Embedding(options)) {}

PerSampleEmbeddingImpl::PerSampleEmbeddingImpl(const torch::nn::Embedding& layer) {
  const auto& o = layer->options;
  if (o.max_norm() || o.scale_grad_by_freq() || o.sparse())
    throw NotSupported("PerSampleEmbedding: max_norm, scale_grad_by_freq and sparse are not supported");
  if (o.padding_idx()) padding_idx_ = *o.padding_idx();  // torch::nn::Embedding made it non-negative
  weight = register_parameter("weight", layer->weight, layer->weight.requires_grad());
}

at::Tensor PerSampleEmbeddingImpl::forward(const at::Tensor& indices) {
  at::Tensor y = at::embedding(weight, indices, padding_idx_.value_or(-1));
  if (weight.requires_grad())
    capture(y, indices, [V = weight.size(0), pad = padding_idx_](const at::Tensor& idx, const at::Tensor& g) {
      return per_sample_grads_embedding(idx, g, V, pad);
    });
  return y;
}

// --- Model helpers

torch::nn::Sequential with_grad_samples(const torch::nn::Sequential& net) {
  torch::nn::Sequential out;
  const std::vector<std::string> names = net->named_children().keys();
  REPRO_ASSERT(names.size() == net->size(), "with_grad_samples: Sequential children and modules disagree");
  size_t i = 0;
  for (const torch::nn::AnyModule& any : *net) {
    const std::string& name = names[i++];
    const std::shared_ptr<torch::nn::Module> m = any.ptr();
    if (auto l = std::dynamic_pointer_cast<torch::nn::LinearImpl>(m)) {
      out->push_back(name, torch::nn::AnyModule(PerSampleLinear(torch::nn::Linear(l))));
    } else if (auto c = std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(m)) {
      out->push_back(name, torch::nn::AnyModule(PerSampleConv2d(torch::nn::Conv2d(c))));
    } else if (auto gn = std::dynamic_pointer_cast<torch::nn::GroupNormImpl>(m)) {
      out->push_back(name, torch::nn::AnyModule(PerSampleGroupNorm(torch::nn::GroupNorm(gn))));
    } else if (auto ln = std::dynamic_pointer_cast<torch::nn::LayerNormImpl>(m)) {
      out->push_back(name, torch::nn::AnyModule(PerSampleLayerNorm(torch::nn::LayerNorm(ln))));
    } else if (auto e = std::dynamic_pointer_cast<torch::nn::EmbeddingImpl>(m)) {
      out->push_back(name, torch::nn::AnyModule(PerSampleEmbedding(torch::nn::Embedding(e))));
    } else if (dynamic_cast<const GradSampleLayer*>(m.get()) || !has_trainable_parameter(*m)) {
      out->push_back(name, any);
    } else {
      throw NotSupported("with_grad_samples: module '" + name + "' (" + m->name() +
                         ") has trainable parameters but no per-example gradients; supported are Linear, Conv2d, "
                         "GroupNorm, LayerNorm and Embedding (freeze the module's parameters or replace it)");
    }
  }
  return out;
}

std::vector<ParamGradSample> collect_grad_samples(const torch::nn::Module& module, LossReduction reduction) {
  // Full parameter name -> the per-example gradient its layer holds (possibly undefined).
  std::map<std::string, at::Tensor> held;
  int64_t B = -1;
  auto take = [&](const std::string& prefix, const torch::nn::Module& m) {
    const auto* layer = dynamic_cast<const GradSampleLayer*>(&m);
    if (!layer) return;
    const LayerGradSample& gs = layer->grad_sample();
    if (batch_of(gs) >= 0) B = batch_of(gs);
    for (const auto& p : m.named_parameters(/*recurse=*/false)) {
      const std::string full = prefix.empty() ? p.key() : prefix + "." + p.key();
      held[full] = p.key() == "weight" ? gs.weight : p.key() == "bias" ? gs.bias : at::Tensor();
    }
  };
  take("", module);
  for (const auto& item : module.named_modules("", /*include_self=*/false)) take(item.key(), *item.value());
  if (B < 0)
    throw Error(
        "collect_grad_samples: no layer has per-example gradients (no backward pass since the last "
        "clear_grad_samples(), or the model has no PerSample layers)");

  std::vector<ParamGradSample> out;
  for (const auto& p : module.named_parameters(/*recurse=*/true)) {
    if (!p.value().requires_grad()) continue;
    auto it = held.find(p.key());
    if (it == held.end())
      throw NotSupported("collect_grad_samples: trainable parameter '" + p.key() +
                         "' is not in a PerSample layer, so it has no per-example gradient");
    at::Tensor gs = it->second;
    if (!gs.defined()) {
      std::vector<int64_t> shape{B};
      shape.insert(shape.end(), p.value().sizes().begin(), p.value().sizes().end());
      gs = at::zeros(shape, p.value().options());
    } else if (reduction == LossReduction::kMean) {
      gs = gs * static_cast<double>(B);
    }
    out.push_back({p.key(), p.value(), gs});
  }
  return out;
}

void clear_grad_samples(torch::nn::Module& module) {
  if (auto* layer = dynamic_cast<GradSampleLayer*>(&module)) layer->clear_grad_sample();
  for (const auto& m : module.modules(/*include_self=*/false))
    if (auto* layer = dynamic_cast<GradSampleLayer*>(m.get())) layer->clear_grad_sample();
}

}  // namespace repro::dp
