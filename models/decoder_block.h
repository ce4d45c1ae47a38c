#pragma once
// One LLaMA-family decoder layer (pre-norm):
//   h = x + o_proj(attention(rope(q_proj(n1(x))), rope(k_proj(n1(x))), v_proj(n1(x))))
//   y = h + down_proj(silu(gate_proj(n2(h))) * up_proj(n2(h)))
// with n1 = input_layernorm, n2 = post_attention_layernorm (RMSNorm), grouped key/value heads,
// optional q/k/v biases (Qwen2), optional per-head q/k RMSNorm before RoPE (Qwen3) and an optional
// sliding window (Mistral). Parameters are public: the layer-wise engine and the refiners read,
// replace and train them directly.

#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "models/forward_sim.h"
#include "models/linear.h"
#include "models/llama_config.h"

namespace repro {

// A parameter slot with its Hugging Face name and the shape config.json implies.
struct NamedParam {
  std::string name;                // "model.layers.3.self_attn.q_proj.weight"
  at::Tensor* tensor = nullptr;    // the slot (may be undefined before loading, or once compressed)
  std::vector<int64_t> shape;      // expected shape
  Linear* linear = nullptr;        // the owning Linear for linear weights/biases, else null
};

// One block's keys and values of the tokens seen so far, for generation: k, v [B, Hkv, capacity,
// hd] (after rotary embedding), of which the first `length` positions are filled.
struct KvCache {
  at::Tensor k, v;
  int64_t length = 0;
  int64_t capacity() const { return k.defined() ? k.size(2) : 0; }
};

class DecoderBlock {
 public:
  // Structure only: every tensor is undefined until loading or random init fills it (inv_freq
  // excepted: fp32 on CPU).
  DecoderBlock(const LlamaConfig& config, int64_t layer_index);

  Linear q_proj, k_proj, v_proj, o_proj;  // [Hq*hd, D], [Hkv*hd, D], [Hkv*hd, D], [D, Hq*hd]
  Linear gate_proj, up_proj, down_proj;   // [I, D], [I, D], [D, I]
  at::Tensor input_layernorm;             // [D]
  at::Tensor post_attention_layernorm;    // [D]
  at::Tensor q_norm, k_norm;              // [hd] (Qwen3), else undefined
  at::Tensor inv_freq;                    // [hd / 2] fp32 rotary inverse frequencies (not a parameter)
  ForwardSim sim;                         // online rotations and fake quantization (forward_sim.h)

  // hidden: [B, T, D]; position_ids: [T] or [B, T] int64 (any device). Returns [B, T, D] in
  // hidden's dtype. Parameters must already be on hidden's device and in its dtype.
  at::Tensor forward(const at::Tensor& hidden, const at::Tensor& position_ids) const;
  // The same with this block's KV cache (generation): hidden [B, T, D] holds the tokens at
  // positions cache.length .. cache.length + T - 1; their keys and values are appended to the
  // cache and every query reads all cached keys before it. Equal to forward() over the whole
  // sequence, token by token (tests check it).
  at::Tensor forward(const at::Tensor& hidden, KvCache& cache) const;

  // The seven canonical linear names, in execution order: q_proj k_proj v_proj o_proj gate_proj
  // up_proj down_proj.
  static const std::vector<std::string>& linear_names();
  // The linears grouped by the input they read, in execution order: {q, k, v} read n1(x), {o} the
  // attention output, {gate, up} n2(h), {down} the gated product. Linears of one group share one
  // calibration Hessian.
  static const std::vector<std::vector<std::string>>& input_groups();
  // InternalError for a name outside linear_names().
  Linear& linear(const std::string& name);
  const Linear& linear(const std::string& name) const;
  // "model.layers.{i}.self_attn.q_proj" etc.: the HF module path of a linear.
  std::string linear_path(const std::string& name) const;

  // Every parameter slot with its HF name ("model.layers.{i}....") and expected shape.
  std::vector<NamedParam> named_parameters();
  // The defined parameter tensors (weights, biases, norms; not inv_freq), for optimizers.
  std::vector<at::Tensor*> parameters();

  // Moves floating parameters to `device` and `dtype`; compressed forms and inv_freq move to the
  // device and keep their fp32. The results are new tensors: set requires_grad afterwards.
  void to(c10::Device device, c10::ScalarType dtype);

  // A deep copy: every tensor and compressed form is cloned (detached, requires_grad off), `sim`
  // is copied; input hooks are not copied.
  DecoderBlock clone() const;

  int64_t layer_index() const { return layer_index_; }
  const LlamaConfig& config() const { return config_; }

 private:
  // position_ids: [T] or [B, T]; cache (optional) must already have room for T more positions.
  at::Tensor forward_impl(const at::Tensor& hidden, const at::Tensor& position_ids, KvCache* cache) const;

  LlamaConfig config_;
  int64_t layer_index_ = 0;
};

}  // namespace repro
