#pragma once
// Hugging Face tokenizer.json with a BPE model, without libtorch: byte-level tokenizers (GPT-2,
// Llama-3, Qwen2/2.5/3) and SentencePiece-style ones (Llama-2, Mistral, Gemma: "▁" for spaces,
// byte fallback), from tokenizer.json alone.
//
// The pipeline follows HF `tokenizers` (tokenizers/src/tokenizer/mod.rs, encode_single_sequence):
//   1. added tokens are cut out first (detail/added_tokens.h): those with normalized=false from
//      the raw text, the others from each normalized piece between them; they never split;
//   2. the normalizer steps (NFC, Prepend, Replace; detail/normalizer.h) run on each piece of
//      text between added tokens;
//   3. the pre-tokenizer steps run in order: Split with one of the supported regexes (Isolated)
//      or a literal string (any behavior), ByteLevel (optional prefix space, optional GPT-2
//      regex, then bytes -> printable characters via GPT-2's bytes_to_unicode) and Metaspace
//      (spaces -> "▁", a leading "▁" per prepend_scheme, optional split before each "▁");
//   4. each piece goes through BPE: characters missing from the vocab become <0xXX> byte tokens
//      (byte_fallback) or unk (fused when fuse_unk), then merges by rank, leftmost first among
//      equal ranks (HF's order), or the whole piece at once when ignore_merges is set and it is in
//      the vocab;
//   5. with add_bos, the post-processor's TemplateProcessing adds its special tokens around the
//      sequence (Llama-3.1: <|begin_of_text|> before it; Llama-2: <s>).
// decode() maps ids to token strings (added tokens included, special ones too; a normalized added
// token as its normalized content, as HF does) and runs the decoder steps (detail/token_decoder.h).
//
// Supported, else one DataError line naming the file and the part: model.type "BPE" (dropout null
// or 0, no continuing_subword_prefix / end_of_word_suffix), normalizer null / NFC / Prepend /
// Replace (literal) / Sequence of those, pre_tokenizer null / ByteLevel / Metaspace / Split /
// Sequence of those, decoder null / ByteLevel / Metaspace / Replace / ByteFallback / Fuse / Strip /
// Sequence of those, post_processor null / TemplateProcessing / ByteLevel / Sequence of those.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "models/detail/added_tokens.h"
#include "models/detail/merge_table.h"
#include "models/detail/normalizer.h"
#include "models/detail/pre_tokenizer.h"
#include "models/detail/token_decoder.h"
#include "models/tokenizer.h"

namespace repro {

class BpeTokenizer : public Tokenizer {
 public:
  using AddedToken = bpe::AddedToken;

  // Parses tokenizer.json text. `origin` names the file in error messages. `tokenizer_config`
  // is the text of tokenizer_config.json or empty (it may set add_bos_token, bos_token and
  // eos_token). DataError on anything malformed or unsupported.
  static std::unique_ptr<BpeTokenizer> from_json(std::string_view tokenizer_json, const std::string& origin,
                                                 std::string_view tokenizer_config = {});
  // tokenizer.json (+ tokenizer_config.json beside it when present).
  static std::unique_ptr<BpeTokenizer> load(const std::filesystem::path& tokenizer_json);

  std::vector<int64_t> encode(std::string_view text, bool add_bos = false) const override;
  std::string decode(const std::vector<int64_t>& ids) const override;
  int64_t vocab_size() const override;  // largest id + 1, added tokens included
  std::optional<int64_t> bos_id() const override { return bos_id_; }
  std::optional<int64_t> eos_id() const override { return eos_id_; }
  std::string kind() const override { return "bpe"; }

  // The id of a token string (model vocab or added token), or nullopt.
  std::optional<int64_t> token_to_id(std::string_view token) const;
  // The pieces the normalizer and pre-tokenizer make of `text` (no added-token handling; the
  // forms BPE sees, e.g. byte-level mapped). For tests and debugging.
  std::vector<std::string> pre_tokenize(std::string_view text) const;

 private:
  struct PreStep {
    enum Kind { kSplitRegex, kSplitLiteral, kByteLevel, kMetaspace } kind = kSplitRegex;
    bpe::SplitPattern pattern = bpe::SplitPattern::kGpt2;         // kSplitRegex
    std::string literal;                                          // kSplitLiteral; kMetaspace: the replacement
    bpe::SplitBehavior behavior = bpe::SplitBehavior::kIsolated;  // kSplitLiteral
    bool add_prefix_space = false;                                // kByteLevel
    bool use_regex = false;                                       // kByteLevel
    enum Prepend { kAlways, kFirst, kNever } prepend = kAlways;   // kMetaspace
    bool split = true;                                            // kMetaspace
  };
  // A piece of text on its way through the pre-tokenizer.
  struct Piece {
    std::string text;
    bool at_start;  // begins at offset 0 of the input (Metaspace's prepend_scheme "first")
  };
  // Heterogeneous lookup: find(std::string_view) without building a std::string.
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  BpeTokenizer() = default;
  void parse(std::string_view json_text, std::string_view config_text);
  void parse_json(std::string_view json_text, std::string_view config_text);
  [[noreturn]] void fail(const std::string& what) const;
  // An unsupported (rather than malformed) part: `what` plus where else to turn.
  [[noreturn]] void fail_unsupported(const std::string& what) const;

  std::vector<Piece> pre_tokenize_pieces(std::string text, bool at_start) const;
  void find_word_starts();
  void encode_plain(std::string_view text, bool at_start, std::vector<int64_t>& out) const;
  void bpe_piece(const std::string& piece, std::vector<int64_t>& out) const;

  std::string origin_;
  // Model.
  std::unordered_map<std::string, int64_t, StringHash, std::equal_to<>> vocab_;
  std::vector<const std::string*> id_to_token_;  // id -> key in vocab_ (nullptr: no such id)
  bpe::MergeTable merges_;
  std::optional<int64_t> unk_id_;
  bool fuse_unk_ = false, byte_fallback_ = false, ignore_merges_ = false;
  // SentencePiece-style pipelines hand BPE whole texts as one piece (no pre-tokenizer). When no
  // token can span "x▁" for a character x, BPE never merges across that point, so the piece is
  // cut there first (same ids, much faster): word_start_ is "▁" then, and these x are listed.
  std::string word_start_;
  std::unordered_map<std::string, bool, StringHash, std::equal_to<>> joins_word_start_;
  int64_t byte_ids_[256];  // byte_fallback: the id of "<0xXX>" for each byte, -1 if none
  // Pipeline.
  std::vector<AddedToken> added_;
  std::unordered_map<int64_t, size_t> added_by_id_;  // id -> index in added_
  std::vector<std::string> added_decoded_;           // per added_: the text decode() uses
  bpe::AddedTokenMatcher raw_matcher_, normalized_matcher_;
  std::vector<bpe::NormalizerStep> normalizer_;
  std::vector<PreStep> pre_steps_;
  std::vector<bpe::DecoderStep> decoder_;
  std::vector<int64_t> template_prefix_, template_suffix_;
  std::optional<bool> add_bos_token_;
  std::optional<int64_t> bos_id_, eos_id_;
  int64_t vocab_size_ = 0;

  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int64_t>> cache_;
};

}  // namespace repro
