#pragma once
// The zoo: small LLaMA-architecture models that ReproBench trains itself on the embedded corpus,
// so every table runs without downloading weights. Each recipe fixes the architecture, the
// tokenizer, the training schedule and the seed; `repro train-zoo <name>` follows it and writes
// models/zoo/<name>/ in Hugging Face layout (config.json, model.safetensors, tokenizer.model)
// with TRAINING.md and a loss curve.

#include <string>
#include <vector>

#include "models/llama_config.h"
#include "training/train_lm.h"

namespace repro {

struct ZooRecipe {
  std::string name;
  std::string purpose;     // one line
  LlamaConfig config;      // vocab_size = tokenizer_vocab
  int tokenizer_vocab = 8000;
  TrainOptions train;
  int64_t valid_windows = 64;  // held-out windows evaluated during training
  std::string saved_dtype = "float16";
};

// Unknown name -> ConfigError listing the recipes.
const ZooRecipe& zoo_recipe(const std::string& name);
std::vector<std::string> zoo_names();

}  // namespace repro
