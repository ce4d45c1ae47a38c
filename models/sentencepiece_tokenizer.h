#pragma once
// SentencePiece tokenizers (tokenizer.model: Llama-1/2, Mistral, the zoo models) and the trainer
// the zoo uses. The SentencePiece headers stay inside the .cpp.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "models/detail/added_tokens.h"
#include "models/tokenizer.h"

namespace repro {

class SentencePieceTokenizer : public Tokenizer {
 public:
  // Loads tokenizer.model. `add_bos_token` (tokenizer_config.json's add_bos_token) decides whether
  // encode(text, true) prepends BOS; unset: whenever the model has a BOS piece. `added_tokens`
  // (tokenizer_config.json's added_tokens_decoder) are cut out of the text before SentencePiece
  // sees it, as transformers' tokenizers do (detail/added_tokens.h; all of them on the raw text);
  // unset: the model's <unk>, BOS and EOS pieces, special. Each piece of text between them is
  // encoded on its own (so each gets SentencePiece's dummy "▁" prefix, like HF's Llama-2
  // tokenizer.json). DataError when the file is missing or not a SentencePiece model.
  static std::unique_ptr<SentencePieceTokenizer> load(
      const std::filesystem::path& model_file, std::optional<bool> add_bos_token = std::nullopt,
      std::optional<std::vector<bpe::AddedToken>> added_tokens = std::nullopt);
  ~SentencePieceTokenizer() override;

  std::vector<int64_t> encode(std::string_view text, bool add_bos = false) const override;
  std::string decode(const std::vector<int64_t>& ids) const override;  // ids outside the vocab: DataError
  int64_t vocab_size() const override;
  std::optional<int64_t> bos_id() const override;
  std::optional<int64_t> eos_id() const override;
  std::string kind() const override { return "sentencepiece"; }

  std::string id_to_piece(int64_t id) const;

 private:
  struct Impl;
  explicit SentencePieceTokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct SentencePieceTrainOptions {
  int vocab_size = 8000;
  std::string model_type = "bpe";  // bpe | unigram
  bool byte_fallback = true;       // unknown characters become <0xXX> byte pieces (never <unk>)
  double character_coverage = 1.0;
  uint32_t seed = 0;  // SentencePiece's global random seed (sentence sampling)
  int num_threads = 1;
  int64_t max_sentence_length = 16384;  // bytes; longer lines are skipped by the trainer
  bool split_digits = true;
  // As in Llama's tokenizer.model: no normalization and whitespace kept as it is, so that
  // decode(encode(s)) == s.
  std::string normalization_rule_name = "identity";
  bool remove_extra_whitespaces = false;
  // Special pieces as in Llama: <unk> 0, <s> 1, </s> 2, no padding piece.
  int unk_id = 0, bos_id = 1, eos_id = 2, pad_id = -1;
};

// Trains a SentencePiece model on `sentences` (one training line each) and writes it to
// `output_model` (usually <dir>/tokenizer.model) atomically. DataError when training fails (e.g.
// a vocab_size too large for the text), naming SentencePiece's reason.
void train_sentencepiece(const std::vector<std::string>& sentences, const std::filesystem::path& output_model,
                         const SentencePieceTrainOptions& options);

}  // namespace repro
