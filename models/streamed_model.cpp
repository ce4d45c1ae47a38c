#include "models/streamed_model.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "core/error.h"
#include "models/llama_io.h"
#include "models/safetensors.h"

namespace repro {
namespace fs = std::filesystem;

namespace {

int64_t bytes_of(const std::vector<NamedParam>& params, c10::ScalarType dtype) {
  int64_t n = 0;
  for (const NamedParam& p : params) {
    int64_t numel = 1;
    for (int64_t d : p.shape) numel *= d;
    n += numel;
  }
  return n * static_cast<int64_t>(c10::elementSize(dtype));
}

}  // namespace

StreamedModel::StreamedModel(const fs::path& dir, c10::ScalarType dtype) : dir_(dir), dtype_(dtype) {
  dtype_name(dtype);  // validates
  refuse_pickle(dir);
  model_ = std::make_unique<CausalLM>(LlamaConfig::load(dir / "config.json"));
  reader_ = std::make_unique<CheckpointReader>(dir);
  check_checkpoint(dir, *reader_, *model_);
}

void StreamedModel::load(std::vector<NamedParam>& params) {
  for (NamedParam& p : params) *p.tensor = reader_->get(p.name).to(at::kCPU, dtype_);
}

void StreamedModel::load_embeddings() {
  if (model_->embed_tokens.defined()) return;
  model_->embed_tokens = reader_->get("model.embed_tokens.weight").to(at::kCPU, dtype_);
  model_->tie_weights();
}

void StreamedModel::release_embeddings() {
  model_->embed_tokens = at::Tensor();
  if (config().tie_word_embeddings) model_->lm_head.weight = at::Tensor();
}

void StreamedModel::load_block(int64_t i) {
  std::vector<NamedParam> params = model_->block(i).named_parameters();
  load(params);
}

void StreamedModel::release_block(int64_t i) {
  DecoderBlock& block = model_->block(i);
  for (NamedParam& p : block.named_parameters()) *p.tensor = at::Tensor();
  for (const auto& name : DecoderBlock::linear_names()) block.linear(name).compressed.reset();
}

void StreamedModel::load_head() {
  model_->norm = reader_->get("model.norm.weight").to(at::kCPU, dtype_);
  if (config().tie_word_embeddings)
    load_embeddings();
  else
    model_->lm_head.weight = reader_->get("lm_head.weight").to(at::kCPU, dtype_);
}

void StreamedModel::release_head() {
  model_->norm = at::Tensor();
  model_->lm_head.weight = at::Tensor();
  if (config().tie_word_embeddings) model_->embed_tokens = at::Tensor();
}

int64_t StreamedModel::embeddings_bytes() const {
  return config().vocab_size * config().hidden_size * static_cast<int64_t>(c10::elementSize(dtype_));
}

int64_t StreamedModel::block_bytes(int64_t i) const { return bytes_of(model_->block(i).named_parameters(), dtype_); }

int64_t StreamedModel::head_bytes() const {
  const int64_t norm = config().hidden_size * static_cast<int64_t>(c10::elementSize(dtype_));
  return norm + embeddings_bytes();  // lm_head [V, D], or the tied embedding matrix
}

}  // namespace repro
