#pragma once
// Checkpoints of random weights in the shapes of real models, written in Hugging Face's sharded
// layout (model-0000k-of-0000n.safetensors + model.safetensors.index.json + config.json), for
// testing what scale does to memory and time without downloading a model. Weights follow HF's
// _init_weights (linear weights and embeddings ~ N(0, 0.02), norms 1), generated one shard at a
// time, so writing a 70B-shaped checkpoint needs about one shard of memory.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <c10/core/ScalarType.h>

#include "models/llama_config.h"

namespace repro {

// The config.json of a published architecture: "llama3-8b", "llama3-70b", "llama2-7b", "qwen2.5-7b"
// (sizes as in the models' own config.json). ConfigError listing the names for an unknown one.
LlamaConfig model_shape_preset(const std::string& name);
const std::vector<std::string>& model_shape_presets();

struct RandomCheckpointOptions {
  c10::ScalarType dtype = at::kBFloat16;
  uint64_t seed = 0;
  int64_t shard_bytes = 4ll << 30;  // a shard closes once it holds at least this many bytes
  int64_t num_layers = -1;          // override config.num_hidden_layers (-1: keep)
  bool progress = true;             // one line per shard on stderr
  bool config_only = false;         // write config.json alone (for `repro reproduce --dry-run` plans)
};

struct RandomCheckpointSummary {
  int64_t parameters = 0, bytes = 0, shards = 0;
  double seconds = 0;
};

// Writes config.json and the shards into `dir` (created; files already there are replaced). Each
// tensor's values depend only on the seed and its name, not on the sharding or dtype.
RandomCheckpointSummary write_random_checkpoint(LlamaConfig config, const std::filesystem::path& dir,
                                                const RandomCheckpointOptions& options);

}  // namespace repro
