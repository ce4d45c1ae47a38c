#include "models/llama_config.h"

#include <nlohmann/json.hpp>

#include "tests/models/models_test_util.h"

using repro::LlamaConfig;
using repro::ModelError;
using repro::RopeScaling;

namespace {

// Llama-3.1-8B's config.json (abridged to the fields the model reads).
const char* kLlama31 = R"({
  "architectures": ["LlamaForCausalLM"], "attention_bias": false, "bos_token_id": 128000,
  "eos_token_id": [128001, 128008, 128009], "hidden_act": "silu", "hidden_size": 4096,
  "intermediate_size": 14336, "max_position_embeddings": 131072, "mlp_bias": false,
  "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
  "rms_norm_eps": 1e-05, "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
  "original_max_position_embeddings": 8192, "rope_type": "llama3"}, "rope_theta": 500000.0,
  "tie_word_embeddings": false, "torch_dtype": "bfloat16", "vocab_size": 128256})";

const char* kQwen3 = R"({
  "architectures": ["Qwen3ForCausalLM"], "attention_bias": false, "bos_token_id": 151643, "eos_token_id": 151645,
  "head_dim": 128, "hidden_act": "silu", "hidden_size": 1024, "intermediate_size": 3072,
  "max_position_embeddings": 40960, "max_window_layers": 28, "model_type": "qwen3", "num_attention_heads": 16,
  "num_hidden_layers": 28, "num_key_value_heads": 8, "rms_norm_eps": 1e-06, "rope_scaling": null,
  "rope_theta": 1000000, "sliding_window": null, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
  "use_sliding_window": false, "vocab_size": 151936})";

}  // namespace

TEST_CASE("config.json of Llama-3.1 parses with llama3 rope scaling", "[models][config]") {
  const LlamaConfig c = LlamaConfig::from_json(kLlama31, "config.json");
  CHECK(c.model_type == "llama");
  CHECK(c.hidden_size == 4096);
  CHECK(c.intermediate_size == 14336);
  CHECK(c.num_hidden_layers == 32);
  CHECK(c.num_attention_heads == 32);
  CHECK(c.num_key_value_heads == 8);
  CHECK(c.head_dim == 128);
  CHECK(c.kv_groups() == 4);
  CHECK(c.rms_norm_eps == 1e-5);
  CHECK(c.rope_theta == 500000.0);
  CHECK(c.rope_scaling.type == RopeScaling::Type::kLlama3);
  CHECK(c.rope_scaling.factor == 8.0);
  CHECK(c.rope_scaling.low_freq_factor == 1.0);
  CHECK(c.rope_scaling.high_freq_factor == 4.0);
  CHECK(c.rope_scaling.original_max_position_embeddings == 8192);
  CHECK(c.vocab_size == 128256);
  CHECK(!c.tie_word_embeddings);
  CHECK(!c.qkv_bias());
  CHECK(*c.bos_token_id == 128000);
  CHECK(c.eos_token_ids == std::vector<int64_t>{128001, 128008, 128009});
  CHECK(c.torch_dtype == "bfloat16");
}

TEST_CASE("Qwen3 sets head_dim explicitly and has q/k norms; Qwen2 has q/k/v biases", "[models][config]") {
  const LlamaConfig q3 = LlamaConfig::from_json(kQwen3, "config.json");
  CHECK(q3.head_dim == 128);  // not hidden_size / heads = 64
  CHECK(q3.qk_norm());
  CHECK(q3.tie_word_embeddings);
  CHECK(!q3.qkv_bias());
  CHECK(!q3.sliding_window);

  nlohmann::json q2 = nlohmann::json::parse(kQwen3);
  q2["model_type"] = "qwen2";
  q2.erase("head_dim");
  const LlamaConfig c2 = LlamaConfig::from_json(q2.dump(), "config.json");
  CHECK(c2.head_dim == 64);
  CHECK(c2.qkv_bias());
  CHECK(!c2.o_bias());
  CHECK(!c2.qk_norm());

  q2["use_sliding_window"] = true;
  CHECK_CONTAINS(repro::test::error_of<ModelError>([&] { LlamaConfig::from_json(q2.dump(), "config.json"); }),
                 "use_sliding_window");
}

TEST_CASE("Mistral keeps its sliding window; linear rope scaling parses", "[models][config]") {
  nlohmann::json m = nlohmann::json::parse(kLlama31);
  m["model_type"] = "mistral";
  m["sliding_window"] = 4096;
  m["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  const LlamaConfig c = LlamaConfig::from_json(m.dump(), "config.json");
  CHECK(*c.sliding_window == 4096);
  CHECK(c.rope_scaling.type == RopeScaling::Type::kLinear);
  CHECK(c.rope_scaling.factor == 2.0);
}

TEST_CASE("rope_parameters (newer transformers) carry theta and scaling", "[models][config]") {
  nlohmann::json j = nlohmann::json::parse(kLlama31);
  j.erase("rope_scaling");
  j.erase("rope_theta");
  j["rope_parameters"] = {{"rope_type", "llama3"}, {"rope_theta", 250000.0}, {"factor", 32.0}};
  const LlamaConfig c = LlamaConfig::from_json(j.dump(), "config.json");
  CHECK(c.rope_theta == 250000.0);
  CHECK(c.rope_scaling.type == RopeScaling::Type::kLlama3);
  CHECK(c.rope_scaling.factor == 32.0);
}

TEST_CASE("config errors name the file and the problem", "[models][config]") {
  nlohmann::json j = nlohmann::json::parse(kLlama31);
  auto error = [](const nlohmann::json& cfg) {
    return repro::test::error_of<ModelError>([&] { LlamaConfig::from_json(cfg.dump(), "/m/config.json"); });
  };
  SECTION("unknown model_type lists the supported ones") {
    j["model_type"] = "gpt2";
    const std::string msg = error(j);
    CHECK_CONTAINS(msg, "/m/config.json");
    CHECK_CONTAINS(msg, "model_type 'gpt2' is not supported (supported: llama, mistral, qwen2, qwen3)");
  }
  SECTION("missing field") {
    j.erase("hidden_size");
    CHECK_CONTAINS(error(j), "missing 'hidden_size'");
  }
  SECTION("ill-typed field") {
    j["num_hidden_layers"] = "32";
    CHECK_CONTAINS(error(j), "'num_hidden_layers' is not an integer");
  }
  SECTION("inconsistent heads") {
    j["num_key_value_heads"] = 5;
    CHECK_CONTAINS(error(j), "not a multiple of num_key_value_heads 5");
  }
  SECTION("unsupported rope scaling") {
    j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
    CHECK_CONTAINS(error(j), "rope_scaling type 'yarn' is not supported");
  }
  SECTION("unsupported activation") {
    j["hidden_act"] = "gelu";
    CHECK_CONTAINS(error(j), "hidden_act 'gelu'");
  }
  SECTION("not JSON") {
    CHECK_CONTAINS(repro::test::error_of<ModelError>([] { LlamaConfig::from_json("{oops", "/m/config.json"); }),
                   "not valid JSON");
  }
}

TEST_CASE("to_json and from_json round trip", "[models][config]") {
  for (const char* text : {kLlama31, kQwen3}) {
    const LlamaConfig a = LlamaConfig::from_json(text, "config.json");
    const LlamaConfig b = LlamaConfig::from_json(a.to_json().dump(), "config.json");
    CHECK(b.to_json() == a.to_json());
    CHECK(b.model_type == a.model_type);
    CHECK(b.head_dim == a.head_dim);
    CHECK(b.rope_scaling.type == a.rope_scaling.type);
    CHECK(b.eos_token_ids == a.eos_token_ids);
  }
}

// Found by fuzz/hf_config (fuzz/README.md): a number beyond the range of double ("1e1936") made
// nlohmann::json throw out_of_range.406, which from_json did not catch (it caught parse_error only).
TEST_CASE("fuzz: a number beyond double in config.json is a ModelError, not a foreign exception", "[models][config]") {
  // The fuzzer's input, byte for byte.
  const std::string found =
      "{\"model_type\": \"qwen3\", \"vocab_sizerope_scaling\": 1e1936, \"hidden_size\": 1024, "
      "\"inter'ediate_size\": 3072, \"num_hidden_layers\": 28, \"num_attention_heads\": 16, "
      "\"num_key_val|ue_heads\": 8, \"head_dim\": 128, \"rope_parameters\": {\"rope_type\": \"default\", "
      "\"rope_theta\": 1000000.0}, \"dtype\xda\xdd\xdf\x9eobl:ft16\", \"attention_bias\": false}";
  CHECK(found.size() == 317);
  const std::string msg =
      repro::test::error_of<ModelError>([&] { LlamaConfig::from_json(found, "/m/config.json"); });
  CHECK(msg == "/m/config.json: not valid JSON (number overflow parsing '1e1936')");
  CHECK(repro::test::error_of<ModelError>([] { LlamaConfig::from_json("{\"a\": -1e999}", "c.json"); }) ==
        "c.json: not valid JSON (number overflow parsing '-1e999')");
  // A syntax error still names the byte.
  CHECK_CONTAINS(repro::test::error_of<ModelError>([] { LlamaConfig::from_json("{\"a\": 1e", "c.json"); }),
                 "c.json: not valid JSON (parse error at byte ");
}
