// The Hugging Face config.json parser (models/llama_config.h). A config that parses must survive
// its own serialization: to_json() read back gives the same architecture (what a zoo checkpoint
// written by ReproBench and read again relies on).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_util.h"
#include "models/llama_config.h"

namespace {

bool same(const repro::LlamaConfig& a, const repro::LlamaConfig& b) {
  return a.model_type == b.model_type && a.vocab_size == b.vocab_size && a.hidden_size == b.hidden_size &&
         a.intermediate_size == b.intermediate_size && a.num_hidden_layers == b.num_hidden_layers &&
         a.num_attention_heads == b.num_attention_heads && a.num_key_value_heads == b.num_key_value_heads &&
         a.head_dim == b.head_dim && a.rms_norm_eps == b.rms_norm_eps && a.rope_theta == b.rope_theta &&
         a.rope_scaling.type == b.rope_scaling.type && a.rope_scaling.factor == b.rope_scaling.factor &&
         a.rope_scaling.low_freq_factor == b.rope_scaling.low_freq_factor &&
         a.rope_scaling.high_freq_factor == b.rope_scaling.high_freq_factor &&
         a.rope_scaling.original_max_position_embeddings == b.rope_scaling.original_max_position_embeddings &&
         a.max_position_embeddings == b.max_position_embeddings && a.tie_word_embeddings == b.tie_word_embeddings &&
         a.attention_bias == b.attention_bias && a.mlp_bias == b.mlp_bias && a.sliding_window == b.sliding_window &&
         a.bos_token_id == b.bos_token_id && a.eos_token_ids == b.eos_token_ids && a.torch_dtype == b.torch_dtype;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  repro::fuzz::expect_clean([&] {
    const repro::LlamaConfig c = repro::LlamaConfig::from_json(text, "config.json");
    REPRO_FUZZ_CHECK(c.num_attention_heads % c.num_key_value_heads == 0 && c.kv_groups() >= 1);
    const repro::LlamaConfig again = repro::LlamaConfig::from_json(c.to_json().dump(), "config.json (written)");
    REPRO_FUZZ_CHECK(same(c, again));
  });
  return 0;
}
