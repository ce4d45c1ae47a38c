#include "models/llama_config.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_text.h"
#include "core/strings.h"

namespace repro {
namespace {

using nlohmann::json;

const char* architecture_of(const std::string& model_type) {
  if (model_type == "mistral") return "MistralForCausalLM";
  if (model_type == "qwen2") return "Qwen2ForCausalLM";
  if (model_type == "qwen3") return "Qwen3ForCausalLM";
  return "LlamaForCausalLM";
}

class Reader {
 public:
  Reader(const json& j, const std::string& origin) : j_(j), origin_(origin) {}

  [[noreturn]] void fail(const std::string& what) const { throw ModelError(origin_ + ": " + what); }

  bool has(const char* key) const { return j_.contains(key) && !j_[key].is_null(); }

  int64_t integer(const char* key, std::optional<int64_t> dflt = std::nullopt) const {
    if (!has(key)) {
      if (dflt) return *dflt;
      fail(fmt::format("missing '{}'", key));
    }
    if (!j_[key].is_number_integer()) fail(fmt::format("'{}' is not an integer", key));
    return j_[key].get<int64_t>();
  }
  double number(const char* key, double dflt) const {
    if (!has(key)) return dflt;
    if (!j_[key].is_number()) fail(fmt::format("'{}' is not a number", key));
    return j_[key].get<double>();
  }
  bool boolean(const char* key, bool dflt) const {
    if (!has(key)) return dflt;
    if (!j_[key].is_boolean()) fail(fmt::format("'{}' is not true/false", key));
    return j_[key].get<bool>();
  }
  std::string string(const char* key, const std::string& dflt) const {
    if (!has(key)) return dflt;
    if (!j_[key].is_string()) fail(fmt::format("'{}' is not a string", key));
    return j_[key].get<std::string>();
  }

 private:
  const json& j_;
  const std::string& origin_;
};

RopeScaling parse_rope_scaling(const json& s, const std::string& origin) {
  const Reader r(s, origin);
  RopeScaling out;
  std::string type = r.string("rope_type", r.string("type", "default"));
  if (type == "default") return out;
  if (type == "linear") {
    out.type = RopeScaling::Type::kLinear;
    out.factor = r.number("factor", 1.0);
  } else if (type == "llama3") {
    out.type = RopeScaling::Type::kLlama3;
    out.factor = r.number("factor", 8.0);
    out.low_freq_factor = r.number("low_freq_factor", 1.0);
    out.high_freq_factor = r.number("high_freq_factor", 4.0);
    out.original_max_position_embeddings = r.integer("original_max_position_embeddings", 8192);
    if (out.high_freq_factor <= out.low_freq_factor)
      r.fail("rope_scaling: high_freq_factor must be larger than low_freq_factor");
  } else {
    r.fail(fmt::format("rope_scaling type '{}' is not supported (supported: default, linear, llama3)", type));
  }
  if (!(out.factor > 0)) r.fail("rope_scaling: factor must be positive");
  return out;
}

}  // namespace

const std::vector<std::string>& supported_model_types() {
  static const std::vector<std::string> kTypes = {"llama", "mistral", "qwen2", "qwen3"};
  return kTypes;
}

LlamaConfig LlamaConfig::from_json(std::string_view text, const std::string& origin) {
  std::string why;
  std::optional<json> parsed = parse_json_text(text, &why);
  if (!parsed) throw ModelError(fmt::format("{}: not valid JSON ({})", origin, why));
  json j = std::move(*parsed);
  if (!j.is_object()) throw ModelError(origin + ": the top level is not a JSON object");
  const Reader r(j, origin);
  LlamaConfig c;
  c.model_type = r.string("model_type", "");
  const auto& types = supported_model_types();
  if (std::find(types.begin(), types.end(), c.model_type) == types.end())
    r.fail(fmt::format("model_type '{}' is not supported (supported: {})", c.model_type, join(types, ", ")));

  const bool qwen = c.model_type == "qwen2" || c.model_type == "qwen3";
  c.vocab_size = r.integer("vocab_size");
  c.hidden_size = r.integer("hidden_size");
  c.intermediate_size = r.integer("intermediate_size");
  c.num_hidden_layers = r.integer("num_hidden_layers");
  c.num_attention_heads = r.integer("num_attention_heads");
  c.num_key_value_heads = r.integer("num_key_value_heads", c.num_attention_heads);
  if (c.num_attention_heads <= 0) r.fail("num_attention_heads must be positive");
  c.head_dim = r.integer("head_dim", c.hidden_size / c.num_attention_heads);
  c.rms_norm_eps = r.number("rms_norm_eps", 1e-6);
  c.max_position_embeddings = r.integer("max_position_embeddings", 2048);
  c.tie_word_embeddings = r.boolean("tie_word_embeddings", false);
  c.attention_bias = r.boolean("attention_bias", false);
  c.mlp_bias = r.boolean("mlp_bias", false);
  if (r.has("bos_token_id")) c.bos_token_id = r.integer("bos_token_id");
  if (r.has("eos_token_id")) {
    const json& e = j["eos_token_id"];
    if (e.is_number_integer()) {
      c.eos_token_ids = {e.get<int64_t>()};
    } else if (e.is_array()) {
      for (const json& x : e) {
        if (!x.is_number_integer()) r.fail("'eos_token_id' holds a value that is not an integer");
        c.eos_token_ids.push_back(x.get<int64_t>());
      }
    } else {
      r.fail("'eos_token_id' is neither an integer nor a list of integers");
    }
  }
  c.torch_dtype = r.string("torch_dtype", r.string("dtype", "float32"));
  const std::string act = r.string("hidden_act", "silu");
  if (act != "silu") r.fail(fmt::format("hidden_act '{}' is not supported (supported: silu)", act));

  // RoPE: transformers >= 4.45 may put theta and the scaling into "rope_parameters".
  c.rope_theta = r.number("rope_theta", 10000.0);
  if (r.has("rope_parameters")) {
    const json& p = j["rope_parameters"];
    if (!p.is_object()) r.fail("'rope_parameters' is not an object");
    c.rope_theta = Reader(p, origin).number("rope_theta", c.rope_theta);
    c.rope_scaling = parse_rope_scaling(p, origin);
  } else if (r.has("rope_scaling")) {
    if (!j["rope_scaling"].is_object()) r.fail("'rope_scaling' is not an object");
    c.rope_scaling = parse_rope_scaling(j["rope_scaling"], origin);
  }

  if (c.model_type == "mistral") {
    if (r.has("sliding_window")) c.sliding_window = r.integer("sliding_window");
  } else if (qwen && r.boolean("use_sliding_window", false)) {
    r.fail("use_sliding_window = true is not supported (per-layer sliding windows)");
  }
  c.validate(origin);
  return c;
}

LlamaConfig LlamaConfig::load(const std::filesystem::path& config_json) {
  std::ifstream in(config_json, std::ios::binary);
  if (!in) throw ModelError(config_json.string() + ": cannot open (a model folder needs config.json)");
  std::stringstream ss;
  ss << in.rdbuf();
  return from_json(ss.str(), config_json.string());
}

void LlamaConfig::validate(const std::string& origin) const {
  auto fail = [&](const std::string& what) { throw ModelError(origin + ": " + what); };
  auto positive = [&](const char* name, int64_t v) {
    if (v <= 0) fail(fmt::format("'{}' = {} must be positive", name, v));
  };
  positive("vocab_size", vocab_size);
  positive("hidden_size", hidden_size);
  positive("intermediate_size", intermediate_size);
  positive("num_hidden_layers", num_hidden_layers);
  positive("num_attention_heads", num_attention_heads);
  positive("num_key_value_heads", num_key_value_heads);
  positive("head_dim", head_dim);
  if (num_attention_heads % num_key_value_heads != 0)
    fail(fmt::format("num_attention_heads {} is not a multiple of num_key_value_heads {}", num_attention_heads,
                     num_key_value_heads));
  if (head_dim % 2 != 0) fail(fmt::format("head_dim {} must be even for rotary embeddings", head_dim));
  if (!(rms_norm_eps > 0)) fail("'rms_norm_eps' must be positive");
  if (!(rope_theta > 0)) fail("'rope_theta' must be positive");
  if (sliding_window && *sliding_window <= 0) fail("'sliding_window' must be positive");
  if (torch_dtype != "float32" && torch_dtype != "bfloat16" && torch_dtype != "float16")
    fail(fmt::format("torch_dtype '{}' is not supported (supported: float32, bfloat16, float16)", torch_dtype));
}

nlohmann::json LlamaConfig::to_json() const {
  json j = {
      {"architectures", {architecture_of(model_type)}},
      {"model_type", model_type},
      {"vocab_size", vocab_size},
      {"hidden_size", hidden_size},
      {"intermediate_size", intermediate_size},
      {"num_hidden_layers", num_hidden_layers},
      {"num_attention_heads", num_attention_heads},
      {"num_key_value_heads", num_key_value_heads},
      {"head_dim", head_dim},
      {"hidden_act", "silu"},
      {"rms_norm_eps", rms_norm_eps},
      {"rope_theta", rope_theta},
      {"max_position_embeddings", max_position_embeddings},
      {"tie_word_embeddings", tie_word_embeddings},
      {"attention_bias", attention_bias},
      {"torch_dtype", torch_dtype},
      {"initializer_range", 0.02},
      {"use_cache", true},
  };
  if (model_type == "llama") j["mlp_bias"] = mlp_bias;
  if (model_type == "mistral") j["sliding_window"] = sliding_window ? json(*sliding_window) : json(nullptr);
  if (model_type == "qwen2" || model_type == "qwen3") j["use_sliding_window"] = false;
  switch (rope_scaling.type) {
    case RopeScaling::Type::kNone: j["rope_scaling"] = nullptr; break;
    case RopeScaling::Type::kLinear: j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", rope_scaling.factor}}; break;
    case RopeScaling::Type::kLlama3:
      j["rope_scaling"] = {{"rope_type", "llama3"},
                           {"factor", rope_scaling.factor},
                           {"low_freq_factor", rope_scaling.low_freq_factor},
                           {"high_freq_factor", rope_scaling.high_freq_factor},
                           {"original_max_position_embeddings", rope_scaling.original_max_position_embeddings}};
      break;
  }
  j["bos_token_id"] = bos_token_id ? json(*bos_token_id) : json(nullptr);
  if (eos_token_ids.size() == 1) j["eos_token_id"] = eos_token_ids[0];
  else if (eos_token_ids.empty()) j["eos_token_id"] = nullptr;
  else j["eos_token_id"] = eos_token_ids;
  return j;
}

}  // namespace repro
