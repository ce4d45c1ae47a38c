#pragma once
// Helpers shared by the models tests (Catch2 v2/v3 neutral: no string matchers).

#include <string>

#include "core/error.h"
#include "models/llama_config.h"
#include "tests/catch.h"

namespace repro::test {

// The message of the exception of type E that `fn` throws; fails the test when it throws nothing.
template <class E, class F>
std::string error_of(F&& fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.what();
  }
  FAIL("no exception was thrown");
  return "";
}

// A tiny config of the given family (2 layers, D=32, 4 query heads, 2 key/value heads, hd=8).
inline LlamaConfig tiny_config(const std::string& model_type = "llama") {
  LlamaConfig c;
  c.model_type = model_type;
  c.vocab_size = 97;
  c.hidden_size = 32;
  c.intermediate_size = 48;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.head_dim = 8;
  c.rms_norm_eps = 1e-5;
  c.rope_theta = 10000.0;
  c.max_position_embeddings = 128;
  c.bos_token_id = 1;
  c.eos_token_ids = {2};
  c.tie_word_embeddings = model_type == "qwen3";
  return c;
}

}  // namespace repro::test

// CHECK that `text` contains `part`, printing the text on failure.
#define CHECK_CONTAINS(text, part)                                   \
  do {                                                               \
    const std::string repro_text_ = (text);                          \
    INFO("text: " << repro_text_);                                   \
    CHECK(repro_text_.find(part) != std::string::npos);              \
  } while (0)
