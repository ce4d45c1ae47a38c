#pragma once
// The architecture of a LLaMA-family decoder, parsed from a Hugging Face config.json for
// model_type llama, mistral, qwen2 and qwen3 (the fields HF's config classes read, with their
// defaults). No libtorch.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace repro {

struct RopeScaling {
  enum class Type { kNone, kLinear, kLlama3 };
  Type type = Type::kNone;
  double factor = 1.0;
  // llama3 only:
  double low_freq_factor = 1.0, high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
};

struct LlamaConfig {
  std::string model_type = "llama";  // llama | mistral | qwen2 | qwen3
  int64_t vocab_size = 32000;
  int64_t hidden_size = 4096;
  int64_t intermediate_size = 11008;
  int64_t num_hidden_layers = 32;
  int64_t num_attention_heads = 32;
  int64_t num_key_value_heads = 32;
  int64_t head_dim = 128;  // hidden_size / num_attention_heads unless given (Qwen3 gives it)
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  int64_t max_position_embeddings = 2048;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // q/k/v/o biases (llama, mistral); qwen2: q/k/v biases always
  bool mlp_bias = false;        // gate/up/down biases (llama option)
  std::optional<int64_t> sliding_window;  // mistral; qwen2/3 only with use_sliding_window
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;
  std::string torch_dtype = "float32";  // "float32" | "bfloat16" | "float16"

  // Derived per architecture.
  bool qkv_bias() const { return attention_bias || model_type == "qwen2"; }
  bool o_bias() const { return attention_bias && model_type != "qwen2"; }
  bool qk_norm() const { return model_type == "qwen3"; }
  int64_t kv_groups() const { return num_attention_heads / num_key_value_heads; }

  // Parses config.json text; `origin` names the file in errors. ModelError on an unsupported
  // model_type (listing the supported ones), missing or ill-typed fields, inconsistent sizes, an
  // unsupported rope_scaling type or activation.
  static LlamaConfig from_json(std::string_view text, const std::string& origin);
  static LlamaConfig load(const std::filesystem::path& config_json);
  // An HF-style config.json object (architectures, model_type, every field above).
  nlohmann::json to_json() const;
  // Checks the sizes are consistent (ModelError naming `origin`).
  void validate(const std::string& origin) const;
};

// "llama", "mistral", "qwen2", "qwen3".
const std::vector<std::string>& supported_model_types();

}  // namespace repro
