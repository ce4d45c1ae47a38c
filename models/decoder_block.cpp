#include "models/decoder_block.h"

#include <ATen/ATen.h>

#include <fmt/format.h>

#include "core/error.h"
#include "models/hadamard.h"
#include "models/llama_ops.h"

namespace repro {
namespace {

at::Tensor clone_tensor(const at::Tensor& t) { return t.defined() ? t.detach().clone() : t; }

Linear clone_linear(const Linear& l) {
  Linear out;
  out.weight = clone_tensor(l.weight);
  out.bias = clone_tensor(l.bias);
  if (l.compressed) out.compressed = std::make_shared<CompressedLinear>(l.compressed->clone());
  return out;
}

}  // namespace

DecoderBlock::DecoderBlock(const LlamaConfig& config, int64_t layer_index)
    : config_(config), layer_index_(layer_index) {
  inv_freq = rope_inv_freq(config_);
}

const std::vector<std::string>& DecoderBlock::linear_names() {
  static const std::vector<std::string> kNames = {"q_proj", "k_proj", "v_proj", "o_proj",
                                                  "gate_proj", "up_proj", "down_proj"};
  return kNames;
}

const std::vector<std::vector<std::string>>& DecoderBlock::input_groups() {
  static const std::vector<std::vector<std::string>> kGroups = {
      {"q_proj", "k_proj", "v_proj"}, {"o_proj"}, {"gate_proj", "up_proj"}, {"down_proj"}};
  return kGroups;
}

const Linear& DecoderBlock::linear(const std::string& name) const {
  if (name == "q_proj") return q_proj;
  if (name == "k_proj") return k_proj;
  if (name == "v_proj") return v_proj;
  if (name == "o_proj") return o_proj;
  if (name == "gate_proj") return gate_proj;
  if (name == "up_proj") return up_proj;
  if (name == "down_proj") return down_proj;
  throw InternalError(fmt::format("DecoderBlock has no linear '{}' (expected one of q_proj k_proj v_proj o_proj "
                                  "gate_proj up_proj down_proj)", name));
}

Linear& DecoderBlock::linear(const std::string& name) {
  return const_cast<Linear&>(static_cast<const DecoderBlock*>(this)->linear(name));
}

std::string DecoderBlock::linear_path(const std::string& name) const {
  const bool attn = name == "q_proj" || name == "k_proj" || name == "v_proj" || name == "o_proj";
  linear(name);  // validates the name
  return fmt::format("model.layers.{}.{}.{}", layer_index_, attn ? "self_attn" : "mlp", name);
}

std::vector<NamedParam> DecoderBlock::named_parameters() {
  const LlamaConfig& c = config_;
  const int64_t D = c.hidden_size, I = c.intermediate_size, hd = c.head_dim;
  const int64_t q_out = c.num_attention_heads * hd, kv_out = c.num_key_value_heads * hd;
  std::vector<NamedParam> out;
  auto add_linear = [&](const std::string& name, int64_t rows, int64_t cols, bool bias) {
    Linear& l = linear(name);
    const std::string path = linear_path(name);
    out.push_back({path + ".weight", &l.weight, {rows, cols}, &l});
    if (bias) out.push_back({path + ".bias", &l.bias, {rows}, &l});
  };
  const std::string prefix = fmt::format("model.layers.{}.", layer_index_);
  out.push_back({prefix + "input_layernorm.weight", &input_layernorm, {D}, nullptr});
  add_linear("q_proj", q_out, D, c.qkv_bias());
  add_linear("k_proj", kv_out, D, c.qkv_bias());
  add_linear("v_proj", kv_out, D, c.qkv_bias());
  add_linear("o_proj", D, q_out, c.o_bias());
  if (c.qk_norm()) {
    out.push_back({prefix + "self_attn.q_norm.weight", &q_norm, {hd}, nullptr});
    out.push_back({prefix + "self_attn.k_norm.weight", &k_norm, {hd}, nullptr});
  }
  out.push_back({prefix + "post_attention_layernorm.weight", &post_attention_layernorm, {D}, nullptr});
  add_linear("gate_proj", I, D, c.mlp_bias);
  add_linear("up_proj", I, D, c.mlp_bias);
  add_linear("down_proj", D, I, c.mlp_bias);
  return out;
}

std::vector<at::Tensor*> DecoderBlock::parameters() {
  std::vector<at::Tensor*> out;
  for (NamedParam& p : named_parameters()) {
    if (p.tensor->defined()) out.push_back(p.tensor);
  }
  return out;
}

void DecoderBlock::to(c10::Device device, c10::ScalarType dtype) {
  for (NamedParam& p : named_parameters()) {
    if (p.tensor->defined()) *p.tensor = p.tensor->to(device, dtype);
  }
  for (const std::string& name : linear_names()) {
    Linear& l = linear(name);
    if (l.compressed) l.compressed->to(device);
  }
  inv_freq = inv_freq.to(device, at::kFloat);
}

DecoderBlock DecoderBlock::clone() const {
  DecoderBlock out(config_, layer_index_);
  for (const std::string& name : linear_names()) out.linear(name) = clone_linear(linear(name));
  out.input_layernorm = clone_tensor(input_layernorm);
  out.post_attention_layernorm = clone_tensor(post_attention_layernorm);
  out.q_norm = clone_tensor(q_norm);
  out.k_norm = clone_tensor(k_norm);
  out.inv_freq = clone_tensor(inv_freq);
  out.sim = sim;
  return out;
}

at::Tensor DecoderBlock::forward(const at::Tensor& hidden, const at::Tensor& position_ids) const {
  return forward_impl(hidden, position_ids, nullptr);
}

at::Tensor DecoderBlock::forward(const at::Tensor& hidden, KvCache& cache) const {
  REPRO_ASSERT(hidden.dim() == 3, "DecoderBlock::forward expects hidden [B, T, D]");
  const int64_t B = hidden.size(0), T = hidden.size(1);
  if (cache.length + T > cache.capacity()) {  // grow: double the capacity (amortized O(1) per token)
    const int64_t cap = std::max<int64_t>({16, 2 * cache.capacity(), cache.length + T});
    const auto opts = hidden.options();
    at::Tensor k = at::empty({B, config_.num_key_value_heads, cap, config_.head_dim}, opts), v = at::empty_like(k);
    if (cache.length > 0) {
      k.narrow(2, 0, cache.length).copy_(cache.k.narrow(2, 0, cache.length));
      v.narrow(2, 0, cache.length).copy_(cache.v.narrow(2, 0, cache.length));
    }
    cache.k = k;
    cache.v = v;
  }
  const at::Tensor positions =
      at::arange(cache.length, cache.length + T, at::TensorOptions().dtype(at::kLong).device(hidden.device()));
  return forward_impl(hidden, positions, &cache);
}

at::Tensor DecoderBlock::forward_impl(const at::Tensor& hidden, const at::Tensor& position_ids, KvCache* cache) const {
  REPRO_ASSERT(hidden.dim() == 3, "DecoderBlock::forward expects hidden [B, T, D]");
  const LlamaConfig& c = config_;
  const int64_t B = hidden.size(0), T = hidden.size(1);
  const int64_t Hq = c.num_attention_heads, Hkv = c.num_key_value_heads, hd = c.head_dim;
  const double eps = c.rms_norm_eps;

  const ForwardSim& s = sim;
  const bool act = s.act_on();
  auto act_quant = [&](const at::Tensor& t) { return act ? fake_quant(t, s.act) : t; };

  at::Tensor x = act_quant(rms_norm(hidden, input_layernorm, eps));
  at::Tensor q = q_proj.forward(x).view({B, T, Hq, hd});
  at::Tensor k = k_proj.forward(x).view({B, T, Hkv, hd});
  at::Tensor v = v_proj.forward(x).view({B, T, Hkv, hd});
  if (c.qk_norm()) {
    q = rms_norm(q, q_norm, eps);
    k = rms_norm(k, k_norm, eps);
  }
  q = q.transpose(1, 2);  // [B, H, T, hd]
  k = k.transpose(1, 2);
  v = v.transpose(1, 2);
  auto [cos, sin] = rope_cos_sin(inv_freq, position_ids, q.scalar_type());
  q = apply_rope(q, cos, sin);
  k = apply_rope(k, cos, sin);
  if (s.qk_hadamard) {
    q = hadamard_transform(q, "head_dim");
    k = hadamard_transform(k, "head_dim");
  }
  if (s.kv_on()) {
    k = fake_quant_kv(k, s.k);
    v = fake_quant_kv(v, s.v);
  }
  int64_t offset = 0;
  if (cache) {  // append this step's keys and values; attend over everything cached
    offset = cache->length;
    cache->k.narrow(2, offset, T).copy_(k);
    cache->v.narrow(2, offset, T).copy_(v);
    cache->length += T;
    k = cache->k.narrow(2, 0, cache->length);
    v = cache->v.narrow(2, 0, cache->length);
  }
  at::Tensor attn = causal_attention(q, k, v, c.sliding_window.value_or(0), offset);
  attn = attn.transpose(1, 2).reshape({B, T, Hq * hd});
  if (s.o_heads_hadamard) attn = hadamard_transform_groups(attn, hd, "num_attention_heads");
  at::Tensor h = hidden + o_proj.forward(act_quant(attn));

  x = act_quant(rms_norm(h, post_attention_layernorm, eps));
  at::Tensor gated = at::silu(gate_proj.forward(x)) * up_proj.forward(x);
  if (s.down_hadamard) gated = hadamard_transform(gated, "intermediate_size");
  return h + down_proj.forward(act_quant(gated));
}

}  // namespace repro
