#pragma once
// The functional pieces of the LLaMA-family decoder, written with plain ATen ops so they run on
// any device and compile against libtorch 1.13 and 2.x alike. Each matches Hugging Face
// transformers' LlamaRMSNorm / LlamaRotaryEmbedding / eager attention numerically.

#include <utility>

#include <ATen/core/Tensor.h>

#include "models/llama_config.h"

namespace repro {

// RMSNorm in fp32, cast back before the weight: weight * (x / sqrt(mean(x^2) + eps)).to(x.dtype).
// x: [..., D] any float dtype; weight: [D]. Returns the promoted dtype of weight and x.
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);

// Rotary inverse frequencies [head_dim / 2] fp32 on CPU: 1 / theta^(2i / head_dim), then the
// config's scaling (linear: / factor; llama3: HF's wavelength-dependent interpolation).
at::Tensor rope_inv_freq(const LlamaConfig& config);

// cos and sin tables for `position_ids` ([T] or [B, T] int64): [T, head_dim] or [B, T, head_dim]
// in `dtype`, on inv_freq's device, computed in fp32 (freqs repeated twice along the last dim).
std::pair<at::Tensor, at::Tensor> rope_cos_sin(const at::Tensor& inv_freq, const at::Tensor& position_ids,
                                               at::ScalarType dtype);

// [x1, x2] -> [-x2, x1] along the last dimension (HF's rotate_half convention).
at::Tensor rotate_half(const at::Tensor& x);

// x * cos + rotate_half(x) * sin. x: [B, H, T, hd]; cos, sin: [T, hd] or [B, T, hd].
at::Tensor apply_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);

// Causal scaled-dot-product attention with grouped key/value heads: query head h reads key/value
// head h / (Hq / Hkv), as HF's repeat_kv does, without materializing the repeated keys.
// q: [B, Hq, T, hd]; k, v: [B, Hkv, T, hd], same dtype and device. Scores are scaled by
// 1/sqrt(hd), masked (key s visible to query t iff s <= t and, with a window w > 0, t - s < w)
// and soft-maxed in fp32; the probabilities are cast back to v's dtype. Queries are processed in
// blocks so that memory stays O(block * T). Returns [B, Hq, T, hd].
// With a KV cache the queries are the last T of q_offset + T positions: k, v: [B, Hkv, q_offset + T,
// hd], and query t sits at position q_offset + t (decoding one token: T = 1, every key visible).
at::Tensor causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t sliding_window = 0,
                            int64_t q_offset = 0);

}  // namespace repro
