#pragma once
// One interface for every tokenizer: Hugging Face tokenizer.json BPE (byte-level: Llama-3, Qwen;
// SentencePiece-style: Llama-2, Mistral, Gemma) and SentencePiece models (tokenizer.model).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace repro {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Token ids of `text`. `add_bos` prepends BOS when the tokenizer has one and its config asks
  // for it (HF: add_bos_token / the post-processor; SentencePiece: when a BOS id exists).
  virtual std::vector<int64_t> encode(std::string_view text, bool add_bos = false) const = 0;
  virtual std::string decode(const std::vector<int64_t>& ids) const = 0;
  virtual int64_t vocab_size() const = 0;
  virtual std::optional<int64_t> bos_id() const = 0;
  virtual std::optional<int64_t> eos_id() const = 0;
  // "sentencepiece" or "bpe".
  virtual std::string kind() const = 0;

  // Loads from a model folder: tokenizer.json if present (and supported), else tokenizer.model.
  // DataError when neither exists or the file is malformed (one clear line, never a crash).
  static std::unique_ptr<Tokenizer> load(const std::filesystem::path& model_dir);
};

}  // namespace repro
