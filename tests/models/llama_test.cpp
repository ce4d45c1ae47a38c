#include "models/llama.h"

#include <ATen/ATen.h>

#include <ATen/CPUGeneratorImpl.h>

#include <nlohmann/json.hpp>

#include "models/llama_io.h"
#include "models/llama_ops.h"
#include "models/safetensors.h"
#include "tests/models/models_test_util.h"
#include "tests/test_util.h"

using repro::CausalLM;
using repro::LlamaConfig;
using repro::ModelError;
using repro::test::TempDir;

namespace {

at::Tensor sample_tokens(int64_t vocab, int64_t B, int64_t T, uint64_t seed) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randint(vocab, {B, T}, gen, at::kLong);
}

// Random non-trivial norms and biases, so that tests notice a missing or misplaced one.
void perturb(CausalLM& m, uint64_t seed) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (repro::NamedParam& p : m.named_parameters()) {
    const bool norm = p.name.find("norm.weight") != std::string::npos;
    const bool bias = p.name.find(".bias") != std::string::npos;
    if (norm) *p.tensor = 1.0 + 0.2 * at::randn(p.shape, gen, at::kFloat);
    if (bias) *p.tensor = 0.05 * at::randn(p.shape, gen, at::kFloat);
  }
}

}  // namespace

TEST_CASE("random init is seeded and follows HF's scheme", "[models][llama]") {
  const LlamaConfig c = repro::test::tiny_config("qwen2");
  auto a = CausalLM::random(c, 7), b = CausalLM::random(c, 7), d = CausalLM::random(c, 8);
  CHECK(at::equal(a->block(1).q_proj.weight, b->block(1).q_proj.weight));
  CHECK(!at::equal(a->block(1).q_proj.weight, d->block(1).q_proj.weight));
  CHECK(at::equal(a->block(0).input_layernorm, at::ones({c.hidden_size})));
  CHECK(at::equal(a->block(0).q_proj.bias, at::zeros({c.num_attention_heads * c.head_dim})));
  const double std = a->embed_tokens.std().item<double>();
  CHECK(std == Approx(0.02).epsilon(0.1));
  // The model in bf16 holds the same draws, rounded.
  auto h = CausalLM::random(c, 7, at::kBFloat16);
  CHECK(h->block(1).q_proj.weight.scalar_type() == at::kBFloat16);
  CHECK(at::equal(h->block(1).q_proj.weight, a->block(1).q_proj.weight.to(at::kBFloat16)));
}

TEST_CASE("parameter names, shapes and count follow HF", "[models][llama]") {
  LlamaConfig c = repro::test::tiny_config("qwen3");  // tied, q/k norms
  CausalLM m(c);
  std::vector<std::string> names;
  for (const repro::NamedParam& p : m.named_parameters()) names.push_back(p.name);
  CHECK(names.front() == "model.embed_tokens.weight");
  CHECK(names.back() == "model.norm.weight");  // tied: no lm_head.weight
  CHECK(std::count(names.begin(), names.end(), "model.layers.1.self_attn.k_norm.weight") == 1);
  CHECK(std::count(names.begin(), names.end(), "model.layers.0.mlp.down_proj.weight") == 1);
  const int64_t D = 32, I = 48, V = 97, q = 32, kv = 16, hd = 8;
  const int64_t per_layer = 2 * D + D * q + 2 * D * kv + q * D + 3 * D * I + 2 * hd;
  CHECK(m.num_parameters() == V * D + 2 * per_layer + D);
  CHECK(m.block(0).linear_path("gate_proj") == "model.layers.0.mlp.gate_proj");
  CHECK(m.block(1).linear_path("o_proj") == "model.layers.1.self_attn.o_proj");
  CHECK_THROWS_AS(m.block(0).linear("qkv_proj"), repro::InternalError);
}

TEST_CASE("running the blocks one at a time equals forward()", "[models][llama]") {
  for (const char* type : {"llama", "qwen2", "qwen3", "mistral"}) {
    INFO(type);
    LlamaConfig c = repro::test::tiny_config(type);
    if (std::string(type) == "mistral") c.sliding_window = 3;
    auto m = CausalLM::random(c, 1);
    perturb(*m, 2);
    at::Tensor tokens = sample_tokens(c.vocab_size, 2, 9, 3);
    at::Tensor logits = m->forward(tokens);
    CHECK(logits.sizes() == at::IntArrayRef({2, 9, c.vocab_size}));
    CHECK(logits.scalar_type() == at::kFloat);

    at::Tensor h = m->embed(tokens);
    at::Tensor pos = at::arange(9, at::kLong);
    for (int64_t i = 0; i < m->num_layers(); ++i) h = m->block(i).forward(h, pos);
    CHECK(at::equal(m->head(h), logits));
  }
}

TEST_CASE("causal: changing a later token leaves earlier logits unchanged", "[models][llama]") {
  for (const char* type : {"llama", "qwen3"}) {
    INFO(type);
    const LlamaConfig c = repro::test::tiny_config(type);
    auto m = CausalLM::random(c, 4);
    at::Tensor a = sample_tokens(c.vocab_size, 1, 12, 5);
    at::Tensor b = a.clone();
    b[0][7] = (a[0][7].item<int64_t>() + 1) % c.vocab_size;
    at::Tensor la = m->forward(a), lb = m->forward(b);
    CHECK(at::equal(la.narrow(1, 0, 7), lb.narrow(1, 0, 7)));
    CHECK(!at::allclose(la.narrow(1, 7, 5), lb.narrow(1, 7, 5)));
  }
}

TEST_CASE("save then load gives identical logits", "[models][llama]") {
  for (const char* type : {"llama", "qwen2", "qwen3", "mistral"}) {
    INFO(type);
    TempDir dir("lm");
    LlamaConfig c = repro::test::tiny_config(type);
    c.rope_scaling = {repro::RopeScaling::Type::kLlama3, 4.0, 1.0, 4.0, 32};
    auto m = CausalLM::random(c, 11);
    perturb(*m, 12);
    repro::save_causal_lm(*m, dir.path());
    auto loaded = repro::load_causal_lm(dir.path(), at::kFloat);
    CHECK(loaded->config().to_json() == c.to_json());
    at::Tensor tokens = sample_tokens(c.vocab_size, 2, 10, 13);
    CHECK(at::equal(loaded->forward(tokens), m->forward(tokens)));
    if (c.tie_word_embeddings) {
      CHECK(loaded->lm_head.weight.data_ptr() == loaded->embed_tokens.data_ptr());
      CHECK(!repro::SafetensorsFile(dir / "model.safetensors").contains("lm_head.weight"));
    }
    CHECK(repro::SafetensorsFile(dir / "model.safetensors").metadata().at("format") == "pt");
  }
}

TEST_CASE("bf16 checkpoints load and compute close to fp32", "[models][llama]") {
  TempDir dir("lm");
  const LlamaConfig c = repro::test::tiny_config("llama");
  auto m = CausalLM::random(c, 21);
  repro::save_causal_lm(*m, dir.path(), at::kBFloat16);
  CHECK(repro::SafetensorsFile(dir / "model.safetensors").info("model.norm.weight").dtype == repro::safetensors::Dtype::BF16);
  CHECK(repro::LlamaConfig::load(dir / "config.json").torch_dtype == "bfloat16");

  auto bf = repro::load_causal_lm(dir.path(), at::kBFloat16);
  CHECK(bf->block(0).down_proj.weight.scalar_type() == at::kBFloat16);
  auto fp = repro::load_causal_lm(dir.path(), at::kFloat);  // bf16 file, fp32 compute
  CHECK(at::equal(fp->block(0).down_proj.weight, m->block(0).down_proj.weight.to(at::kBFloat16).to(at::kFloat)));
  at::Tensor tokens = sample_tokens(c.vocab_size, 1, 8, 22);
  at::Tensor lb = bf->forward(tokens), lf = fp->forward(tokens);
  CHECK(lb.scalar_type() == at::kFloat);
  CHECK((lb - lf).abs().max().item<double>() < 0.05 * lf.abs().max().item<double>() + 1e-3);
  // fp16 loads too (libtorch 1.13 has no fp16 matmul on CPU, so it is not run here).
  auto half = repro::load_causal_lm(dir.path(), at::kHalf);
  CHECK(half->block(1).q_proj.weight.scalar_type() == at::kHalf);
  CHECK(at::equal(half->norm, fp->norm.to(at::kHalf)));
}

TEST_CASE("missing, unknown and mis-shaped tensors are reported by name", "[models][llama]") {
  TempDir dir("lm");
  const LlamaConfig c = repro::test::tiny_config("llama");
  auto m = CausalLM::random(c, 31);
  repro::save_causal_lm(*m, dir.path());
  const auto file = dir / "model.safetensors";
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  {
    repro::SafetensorsFile f(file);
    for (const std::string& name : f.names()) tensors.emplace_back(name, f.get(name));
  }
  auto rewrite = [&](std::vector<std::pair<std::string, at::Tensor>> t) { repro::save_safetensors(file, t); };
  auto load_error = [&] { return repro::test::error_of<ModelError>([&] { repro::load_causal_lm(dir.path()); }); };

  SECTION("missing and unknown in one message") {
    auto t = tensors;
    t.erase(std::remove_if(t.begin(), t.end(), [](const auto& p) {
              return p.first == "model.layers.1.mlp.up_proj.weight" || p.first == "lm_head.weight";
            }), t.end());
    t.emplace_back("model.layers.0.self_attn.qkv_proj.weight", at::zeros({4}));
    t.emplace_back("model.layers.0.self_attn.rotary_emb.inv_freq", at::zeros({4}));  // old buffer: ignored
    rewrite(t);
    const std::string msg = load_error();
    CHECK_CONTAINS(msg, "2 missing tensor(s): model.layers.1.mlp.up_proj.weight, lm_head.weight");
    CHECK_CONTAINS(msg, "1 unknown tensor(s): model.layers.0.self_attn.qkv_proj.weight");
    CHECK(msg.find("inv_freq") == std::string::npos);
  }
  SECTION("long lists are cut at ten names with a count") {
    rewrite({{"unrelated", at::zeros({1})}});
    const std::string msg = load_error();
    CHECK_CONTAINS(msg, "missing tensor(s)");
    CHECK_CONTAINS(msg, "21 missing tensor(s)");  // every parameter of a 2-layer llama
    CHECK_CONTAINS(msg, "and 11 more");
  }
  SECTION("shape mismatch names the tensor, its file and both shapes") {
    auto t = tensors;
    for (auto& [name, tensor] : t) {
      if (name == "model.layers.0.self_attn.k_proj.weight") tensor = at::zeros({32, 32});
    }
    rewrite(t);
    const std::string msg = load_error();
    CHECK_CONTAINS(msg, "tensor 'model.layers.0.self_attn.k_proj.weight' in model.safetensors has shape [32, 32]");
    CHECK_CONTAINS(msg, "config.json implies [16, 32]");
  }
  SECTION("integer weights are refused") {
    auto t = tensors;
    for (auto& [name, tensor] : t) {
      if (name == "model.norm.weight") tensor = at::ones({32}, at::kInt);
    }
    rewrite(t);
    CHECK_CONTAINS(load_error(), "expected a floating type");
  }
  SECTION("no config.json") {
    std::filesystem::remove(dir / "config.json");
    CHECK_CONTAINS(load_error(), "config.json");
  }
}

TEST_CASE("block clone is deep, to() converts, Linear hooks and compressed forms work", "[models][llama]") {
  const LlamaConfig c = repro::test::tiny_config("qwen2");
  auto m = CausalLM::random(c, 41);
  perturb(*m, 42);
  repro::DecoderBlock& block = m->block(0);
  at::Tensor h = at::randn({1, 5, c.hidden_size});
  at::Tensor pos = at::arange(5, at::kLong);
  at::Tensor y = block.forward(h, pos);

  repro::DecoderBlock copy = block.clone();
  CHECK(at::equal(copy.forward(h, pos), y));
  copy.q_proj.weight.mul_(2);
  copy.q_proj.bias.add_(1);
  CHECK(at::equal(block.forward(h, pos), y));
  CHECK(copy.parameters().size() == block.parameters().size());

  // The hook sees the normalized input of q_proj.
  int calls = 0;
  block.q_proj.on_input = [&](const at::Tensor& x) {
    ++calls;
    CHECK(at::allclose(x, repro::rms_norm(h, block.input_layernorm, c.rms_norm_eps)));
  };
  block.forward(h, pos);
  CHECK(calls == 1);
  block.q_proj.on_input = nullptr;

  // A compressed form replaces the dense weight; the bias still applies.
  block.down_proj.compressed = std::make_shared<repro::CompressedLinear>(
      repro::CompressedLinear::from_dense(block.down_proj.weight.clone()));
  block.down_proj.weight = at::Tensor();
  CHECK(at::allclose(block.forward(h, pos), y, 1e-5, 1e-6));
  repro::DecoderBlock copy2 = block.clone();
  CHECK(copy2.down_proj.compressed != block.down_proj.compressed);
  CHECK(at::allclose(copy2.forward(h, pos), y, 1e-5, 1e-6));

  // to(): dtype of parameters changes, inv_freq stays fp32.
  block.to(at::kCPU, at::kBFloat16);
  CHECK(block.q_proj.weight.scalar_type() == at::kBFloat16);
  CHECK(block.q_proj.bias.scalar_type() == at::kBFloat16);
  CHECK(block.inv_freq.scalar_type() == at::kFloat);
  at::Tensor yb = block.forward(h.to(at::kBFloat16), pos);
  CHECK(yb.scalar_type() == at::kBFloat16);
  CHECK((yb.to(at::kFloat) - y).abs().max().item<double>() < 0.1);
}

TEST_CASE("a compressed model saves its dense reconstruction", "[models][llama]") {
  TempDir dir("lm");
  const LlamaConfig c = repro::test::tiny_config("llama");
  auto m = CausalLM::random(c, 51);
  at::Tensor tokens = sample_tokens(c.vocab_size, 1, 6, 52);
  repro::Linear& l = m->block(1).up_proj;
  at::Tensor w = l.weight * (at::rand_like(l.weight) > 0.5);  // a pruned weight
  l.compressed = std::make_shared<repro::CompressedLinear>();
  l.compressed->set_sparse(w, w != 0);
  at::Tensor logits = m->forward(tokens);
  repro::save_causal_lm(*m, dir.path());
  CHECK(at::allclose(repro::load_causal_lm(dir.path())->forward(tokens), logits, 1e-5, 1e-5));
}

TEST_CASE("token ids outside the vocabulary are a DataError", "[models][llama]") {
  auto m = CausalLM::random(repro::test::tiny_config(), 61);
  CHECK_CONTAINS(repro::test::error_of<repro::DataError>([&] { m->forward(at::full({1, 3}, 97, at::kLong)); }),
                 "token id 97 is outside the model's vocabulary [0, 97)");
}

TEST_CASE("generation with a KV cache equals the full forward, prefill then token by token", "[models][llama]") {
  for (const char* type : {"llama", "qwen3", "mistral"}) {
    LlamaConfig c = repro::test::tiny_config(type);
    if (std::string(type) == "mistral") c.sliding_window = 5;  // the window also applies through the cache
    auto model = CausalLM::random(c, 3);
    perturb(*model, 4);
    const at::Tensor tokens = sample_tokens(97, 2, 23, 5);
    at::NoGradGuard no_grad;
    const at::Tensor want = model->forward(tokens);  // [2, 23, V]
    std::vector<repro::KvCache> caches;
    std::vector<at::Tensor> got = {model->forward(tokens.slice(1, 0, 7), caches)};  // prefill 7
    for (int64_t t = 7; t < 23; ++t) got.push_back(model->forward(tokens.slice(1, t, t + 1), caches));  // decode
    INFO(type);
    CHECK(caches[0].length == 23);
    CHECK(caches[0].capacity() >= 23);  // grown past its first allocation
    CHECK(at::allclose(at::cat(got, 1), want, 1e-4, 1e-5));
  }
}
