#include "models/llama.h"

#include <ATen/ATen.h>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>

#include "core/error.h"
#include "models/llama_ops.h"

namespace repro {

CausalLM::CausalLM(LlamaConfig config) : config_(std::move(config)) {
  config_.validate("CausalLM");
  blocks_.reserve(static_cast<size_t>(config_.num_hidden_layers));
  for (int64_t i = 0; i < config_.num_hidden_layers; ++i) blocks_.emplace_back(config_, i);
}

std::unique_ptr<CausalLM> CausalLM::random(const LlamaConfig& config, uint64_t seed, c10::ScalarType dtype,
                                           c10::Device device) {
  auto model = std::make_unique<CausalLM>(config);
  model->init_random(seed);
  if (dtype != at::kFloat || device != c10::Device(at::kCPU)) model->to(device, dtype);
  return model;
}

void CausalLM::init_random(uint64_t seed) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto opts = at::TensorOptions().dtype(at::kFloat);
  for (NamedParam& p : named_parameters()) {
    const std::string& n = p.name;
    const bool is_norm = n.find("norm.weight") != std::string::npos;
    const bool is_bias = n.size() > 5 && n.compare(n.size() - 5, 5, ".bias") == 0;
    if (is_norm) {
      *p.tensor = at::ones(p.shape, opts);
    } else if (is_bias) {
      *p.tensor = at::zeros(p.shape, opts);
    } else {
      *p.tensor = at::empty(p.shape, opts).normal_(0.0, 0.02, gen);
    }
  }
  tie_weights();
}

DecoderBlock& CausalLM::block(int64_t i) {
  REPRO_ASSERT(i >= 0 && i < num_layers(), fmt::format("block {} of {}", i, num_layers()));
  return blocks_[static_cast<size_t>(i)];
}

const DecoderBlock& CausalLM::block(int64_t i) const {
  REPRO_ASSERT(i >= 0 && i < num_layers(), fmt::format("block {} of {}", i, num_layers()));
  return blocks_[static_cast<size_t>(i)];
}

at::Tensor CausalLM::embed(const at::Tensor& tokens) const {
  REPRO_ASSERT(tokens.dim() == 2, "embed expects tokens [B, T]");
  if (tokens.numel() > 0) {
    const int64_t lo = tokens.min().item<int64_t>(), hi = tokens.max().item<int64_t>();
    if (lo < 0 || hi >= config_.vocab_size)
      throw DataError(fmt::format("token id {} is outside the model's vocabulary [0, {}) (tokenizer and model differ?)",
                                  lo < 0 ? lo : hi, config_.vocab_size));
  }
  return at::embedding(embed_tokens, tokens.to(embed_tokens.device(), at::kLong));
}

at::Tensor CausalLM::head(const at::Tensor& hidden) const {
  return lm_head.forward(rms_norm(hidden, norm, config_.rms_norm_eps)).to(at::kFloat);
}

at::Tensor CausalLM::forward(const at::Tensor& tokens) const {
  at::Tensor h = embed(tokens);
  const at::Tensor positions = at::arange(tokens.size(1), at::TensorOptions().dtype(at::kLong).device(h.device()));
  for (const DecoderBlock& b : blocks_) h = b.forward(h, positions);
  return head(h);
}

at::Tensor CausalLM::forward(const at::Tensor& tokens, std::vector<KvCache>& caches) const {
  if (caches.empty()) caches.resize(blocks_.size());
  REPRO_ASSERT(caches.size() == blocks_.size(), fmt::format("{} KV caches for {} blocks", caches.size(), blocks_.size()));
  at::Tensor h = embed(tokens);
  for (size_t i = 0; i < blocks_.size(); ++i) h = blocks_[i].forward(h, caches[i]);
  return head(h);
}

int64_t CausalLM::num_parameters() const {
  int64_t total = 0;
  for (const NamedParam& p : const_cast<CausalLM*>(this)->named_parameters()) {
    int64_t n = 1;
    for (int64_t d : p.shape) n *= d;
    total += n;
  }
  return total;
}

void CausalLM::to(c10::Device device, c10::ScalarType dtype) {
  if (embed_tokens.defined()) embed_tokens = embed_tokens.to(device, dtype);
  if (norm.defined()) norm = norm.to(device, dtype);
  for (DecoderBlock& b : blocks_) b.to(device, dtype);
  if (config_.tie_word_embeddings) {
    tie_weights();
  } else if (lm_head.weight.defined()) {
    lm_head.weight = lm_head.weight.to(device, dtype);
  }
  if (lm_head.compressed) lm_head.compressed->to(device);
}

std::vector<NamedParam> CausalLM::named_parameters() {
  const int64_t V = config_.vocab_size, D = config_.hidden_size;
  std::vector<NamedParam> out;
  out.push_back({"model.embed_tokens.weight", &embed_tokens, {V, D}, nullptr});
  for (DecoderBlock& b : blocks_) {
    for (NamedParam& p : b.named_parameters()) out.push_back(std::move(p));
  }
  out.push_back({"model.norm.weight", &norm, {D}, nullptr});
  if (!config_.tie_word_embeddings) out.push_back({"lm_head.weight", &lm_head.weight, {V, D}, &lm_head});
  return out;
}

void CausalLM::tie_weights() {
  if (config_.tie_word_embeddings) lm_head.weight = embed_tokens;
}

void CausalLM::untie_weights() {
  if (!config_.tie_word_embeddings) return;
  config_.tie_word_embeddings = false;
  lm_head.weight = embed_tokens.detach().clone();
}

}  // namespace repro
