#include "models/random_checkpoint.h"

#include <map>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/strings.h"
#include "core/timing.h"
#include "models/llama.h"
#include "models/llama_io.h"
#include "models/safetensors.h"

namespace repro {
namespace fs = std::filesystem;

namespace {

LlamaConfig llama_like(int64_t vocab, int64_t hidden, int64_t inter, int64_t layers, int64_t heads, int64_t kv,
                       double theta, int64_t max_pos, double eps) {
  LlamaConfig c;
  c.model_type = "llama";
  c.vocab_size = vocab;
  c.hidden_size = hidden;
  c.intermediate_size = inter;
  c.num_hidden_layers = layers;
  c.num_attention_heads = heads;
  c.num_key_value_heads = kv;
  c.head_dim = hidden / heads;
  c.rope_theta = theta;
  c.max_position_embeddings = max_pos;
  c.rms_norm_eps = eps;
  return c;
}

// Llama 3.1's rope scaling (meta-llama/Llama-3.1-8B config.json).
void llama31_rope(LlamaConfig& c) {
  c.rope_scaling.type = RopeScaling::Type::kLlama3;
  c.rope_scaling.factor = 8.0;
  c.rope_scaling.low_freq_factor = 1.0;
  c.rope_scaling.high_freq_factor = 4.0;
  c.rope_scaling.original_max_position_embeddings = 8192;
}

// A seed per tensor from the run's seed and the tensor's name: values do not depend on the order
// tensors are written in.
uint64_t tensor_seed(uint64_t seed, const std::string& name) {
  const std::string h = sha256_hex(fmt::format("{}:{}", seed, name));
  return std::stoull(h.substr(0, 15), nullptr, 16);
}

at::Tensor random_tensor(const NamedParam& p, uint64_t seed, c10::ScalarType dtype) {
  const auto opts = at::TensorOptions().dtype(at::kFloat);
  const std::string& n = p.name;
  if (n.find("norm.weight") != std::string::npos) return at::ones(p.shape, opts.dtype(dtype));
  if (ends_with(n, ".bias")) return at::zeros(p.shape, opts.dtype(dtype));
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(tensor_seed(seed, n));
  return at::empty(p.shape, opts).normal_(0.0, 0.02, gen).to(dtype);
}

}  // namespace

const std::vector<std::string>& model_shape_presets() {
  static const std::vector<std::string> names = {"llama3-8b", "llama3-70b", "llama2-7b", "qwen2.5-7b"};
  return names;
}

LlamaConfig model_shape_preset(const std::string& name) {
  LlamaConfig c;
  if (name == "llama3-8b") {
    c = llama_like(128256, 4096, 14336, 32, 32, 8, 500000.0, 131072, 1e-5);
    llama31_rope(c);
  } else if (name == "llama3-70b") {
    c = llama_like(128256, 8192, 28672, 80, 64, 8, 500000.0, 131072, 1e-5);
    llama31_rope(c);
  } else if (name == "llama2-7b") {
    c = llama_like(32000, 4096, 11008, 32, 32, 32, 10000.0, 4096, 1e-5);
  } else if (name == "qwen2.5-7b") {
    c = llama_like(152064, 3584, 18944, 28, 28, 4, 1000000.0, 32768, 1e-6);
    c.model_type = "qwen2";
  } else {
    throw ConfigError(fmt::format("unknown model shape '{}' (known: {})", name, join(model_shape_presets(), ", ")));
  }
  c.bos_token_id = 1;
  c.eos_token_ids = {2};
  c.validate("preset " + name);
  return c;
}

RandomCheckpointSummary write_random_checkpoint(LlamaConfig config, const fs::path& dir,
                                                const RandomCheckpointOptions& o) {
  if (o.num_layers > 0) config.num_hidden_layers = o.num_layers;
  config.torch_dtype = dtype_name(o.dtype);
  config.validate(dir.string());
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw IoError(fmt::format("{}: cannot create the folder ({})", dir.string(), ec.message()));

  if (o.config_only) {
    write_file_atomic(dir / "config.json", config.to_json().dump(2) + "\n");
    RandomCheckpointSummary sum;
    sum.parameters = CausalLM(config).num_parameters();
    return sum;
  }
  // The parameter slots in checkpoint order, without allocating the model's tensors.
  CausalLM skeleton(config);
  std::vector<NamedParam> params = skeleton.named_parameters();
  const int64_t item = c10::elementSize(o.dtype);
  // Shards: consecutive parameters until a shard holds shard_bytes.
  std::vector<std::vector<const NamedParam*>> shards(1);
  int64_t in_shard = 0;
  RandomCheckpointSummary sum;
  for (const NamedParam& p : params) {
    int64_t numel = 1;
    for (int64_t d : p.shape) numel *= d;
    if (in_shard >= o.shard_bytes) {
      shards.emplace_back();
      in_shard = 0;
    }
    shards.back().push_back(&p);
    in_shard += numel * item;
    sum.parameters += numel;
    sum.bytes += numel * item;
  }
  sum.shards = static_cast<int64_t>(shards.size());

  Stopwatch w;
  nlohmann::json weight_map = nlohmann::json::object();
  for (size_t k = 0; k < shards.size(); ++k) {
    const std::string file = fmt::format("model-{:05d}-of-{:05d}.safetensors", k + 1, shards.size());
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    for (const NamedParam* p : shards[k]) {
      tensors.emplace_back(p->name, random_tensor(*p, o.seed, o.dtype));
      weight_map[p->name] = file;
    }
    save_safetensors(dir / file, tensors, {{"format", "pt"}});
    if (o.progress)
      fmt::print(stderr, "make-checkpoint: {} ({} tensors) written, {:.0f} s\n", file, tensors.size(), w.seconds());
  }
  const nlohmann::json index = {{"metadata", {{"total_size", sum.bytes}}}, {"weight_map", weight_map}};
  write_file_atomic(dir / "model.safetensors.index.json", index.dump(2) + "\n");
  write_file_atomic(dir / "config.json", config.to_json().dump(2) + "\n");
  sum.seconds = w.seconds();
  return sum;
}

}  // namespace repro
