#pragma once
// A LLaMA-family causal language model (llama, mistral, qwen2, qwen3) in plain ATen:
//   logits = lm_head(norm(blocks(embed_tokens[tokens])))
// The pieces are public so that the layer-wise engine can run them one at a time on a device
// while the rest stays in host memory: embed() -> block(i).forward() ... -> head(). forward()
// moves nothing: the caller puts each piece where it should run.
//
// Loading from and saving to Hugging Face folders: models/llama_io.h.

#include <cstdint>
#include <memory>
#include <vector>

#include <ATen/core/Tensor.h>

#include "models/decoder_block.h"
#include "models/linear.h"
#include "models/llama_config.h"

namespace repro {

class CausalLM {
 public:
  // Structure only: every parameter undefined until loading or init_random() fills it.
  explicit CausalLM(LlamaConfig config);

  // A randomly initialized model like HF's _init_weights: linear weights and embeddings
  // ~ N(0, 0.02), biases 0, norms 1, drawn in fp32 on CPU from a generator seeded with `seed`
  // (so the values do not depend on dtype or device), then moved to `device` / `dtype`.
  static std::unique_ptr<CausalLM> random(const LlamaConfig& config, uint64_t seed,
                                          c10::ScalarType dtype = at::kFloat, c10::Device device = at::kCPU);
  void init_random(uint64_t seed);

  const LlamaConfig& config() const { return config_; }

  at::Tensor embed_tokens;  // [V, D]
  at::Tensor norm;          // [D] final RMSNorm
  Linear lm_head;           // weight [V, D]; the same tensor as embed_tokens when tied

  int64_t num_layers() const { return static_cast<int64_t>(blocks_.size()); }
  DecoderBlock& block(int64_t i);
  const DecoderBlock& block(int64_t i) const;

  // tokens: [B, T] int64 (ids < vocab_size, else DataError) -> hidden [B, T, D], embed_tokens'
  // dtype and device.
  at::Tensor embed(const at::Tensor& tokens) const;
  // hidden: [B, T, D] -> logits [B, T, V] fp32 (final norm, then lm_head).
  at::Tensor head(const at::Tensor& hidden) const;
  // tokens: [B, T] int64 -> logits [B, T, V] fp32, positions 0 .. T-1. Everything must already be
  // on tokens' device.
  at::Tensor forward(const at::Tensor& tokens) const;
  // Generation with a KV cache per block (`caches` holds num_layers() entries, empty at first):
  // tokens [B, T] int64 at positions caches[0].length .. + T - 1 -> logits [B, T, V] fp32. A prompt
  // is one call (prefill), then one call per generated token (decode).
  at::Tensor forward(const at::Tensor& tokens, std::vector<KvCache>& caches) const;

  // Parameter count implied by the config (tied embeddings counted once).
  int64_t num_parameters() const;
  // Moves every piece (see DecoderBlock::to) and re-ties lm_head to embed_tokens when tied.
  void to(c10::Device device, c10::ScalarType dtype);
  // Every parameter slot under its Hugging Face name with its expected shape, in checkpoint
  // order: embed_tokens, the blocks, norm, lm_head (absent when tied).
  std::vector<NamedParam> named_parameters();
  // Points lm_head.weight at embed_tokens when the config ties them (no-op otherwise).
  void tie_weights();
  // Gives lm_head its own copy of the embedding and marks the config untied (no-op when untied):
  // for transforms that change the two differently (QuaRot fuses the final norm into lm_head).
  void untie_weights();

 private:
  LlamaConfig config_;
  std::vector<DecoderBlock> blocks_;
};

}  // namespace repro
