#pragma once
// A causal LM read from its checkpoint piece by piece instead of all at once: the model's
// structure lives in memory, its weights stay in the (memory-mapped) safetensors files until a
// piece is needed, and a piece is released once used. The layer-wise engine and the streaming
// evaluation (suites/perplexity/streaming_run.h) hold one decoder block at a time this way, so an
// 8B or 70B checkpoint compresses and evaluates in about one block's memory (plus the embeddings
// or the head while they are in use, and the activations).
//
// The pieces: the embeddings (model.embed_tokens), block i (its norms, linears and biases), and the
// head (model.norm and lm_head, which is the embedding matrix when the config ties them).

#include <cstdint>
#include <filesystem>
#include <memory>

#include <c10/core/ScalarType.h>

#include "models/checkpoint.h"
#include "models/llama.h"

namespace repro {

class StreamedModel {
 public:
  // Reads config.json and every shard's header and checks them like load_causal_lm (missing,
  // unknown, misshapen or non-float tensors: ModelError); reads no weight. Pieces load on the CPU
  // in `dtype` (a float type).
  StreamedModel(const std::filesystem::path& dir, c10::ScalarType dtype);

  CausalLM& model() { return *model_; }
  const LlamaConfig& config() const { return model_->config(); }
  c10::ScalarType dtype() const { return dtype_; }
  const std::filesystem::path& dir() const { return dir_; }

  void load_embeddings();
  void load_block(int64_t i);
  void load_head();
  // Release drops the piece's tensors (a compressed block's compressed forms too); the slots are
  // undefined afterwards, as before loading.
  void release_embeddings();
  void release_block(int64_t i);
  void release_head();

  // Bytes one piece takes in `dtype` once loaded (dense weights).
  int64_t embeddings_bytes() const;
  int64_t block_bytes(int64_t i) const;
  int64_t head_bytes() const;

 private:
  void load(std::vector<NamedParam>& params);

  std::filesystem::path dir_;
  c10::ScalarType dtype_;
  std::unique_ptr<CausalLM> model_;
  std::unique_ptr<CheckpointReader> reader_;
};

}  // namespace repro
