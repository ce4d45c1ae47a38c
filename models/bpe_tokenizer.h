#pragma once
// Hugging Face tokenizer.json byte-level BPE (GPT-2, Llama-3, Qwen2/2.5/3), without libtorch.
//
// The pipeline follows HF `tokenizers`:
//   1. added tokens are cut out first (leftmost-longest; special ones and those with
//      normalized=false on the raw text, the others after normalization); they never split;
//   2. the normalizer (none or NFC) runs on the text between them;
//   3. the pre-tokenizer steps run in order: Split(regex, Isolated) with one of the supported
//      regexes (see detail/pre_tokenizer.h) and ByteLevel (optional prefix space, optional GPT-2
//      regex, then bytes -> printable characters via GPT-2's bytes_to_unicode);
//   4. each piece goes through BPE: merges by rank, leftmost first among equal ranks (the order HF
//      applies them), or the whole piece at once when ignore_merges is set and it is in the vocab;
//   5. with add_bos, the post-processor's TemplateProcessing adds its special tokens around the
//      sequence (Llama-3: <|begin_of_text|> before it).
// decode() maps ids back to token strings (added tokens included, special ones too), undoes the
// byte-level mapping and repairs ill-formed UTF-8 with U+FFFD like HF's decoder.
//
// Supported, else one DataError line naming the file: model.type "BPE" (dropout null or 0, no
// continuing_subword_prefix / end_of_word_suffix), normalizer null / NFC / Sequence of those,
// pre_tokenizer ByteLevel or Sequence of Split + ByteLevel, decoder ByteLevel (or null).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "models/detail/merge_table.h"
#include "models/detail/pre_tokenizer.h"
#include "models/tokenizer.h"

namespace repro {

class BpeTokenizer : public Tokenizer {
 public:
  struct AddedToken {
    int64_t id = 0;
    std::string content;
    bool special = false, normalized = true, lstrip = false, rstrip = false, single_word = false;
  };

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
  // The pieces the pre-tokenizer makes of `text` (no added-token handling; byte-level mapped when
  // the pipeline has ByteLevel). For tests and debugging.
  std::vector<std::string> pre_tokenize(std::string_view text) const;

 private:
  struct PreStep {
    enum Kind { kSplit, kByteLevel } kind = kSplit;
    bpe::SplitPattern pattern = bpe::SplitPattern::kGpt2;
    bool add_prefix_space = false;  // ByteLevel
    bool use_regex = false;         // ByteLevel
  };
  struct Segment {
    std::string_view text;
    const AddedToken* token = nullptr;  // set: the segment is this added token
  };

  BpeTokenizer() = default;
  void parse(std::string_view json_text, std::string_view config_text);
  void parse_json(std::string_view json_text, std::string_view config_text);
  [[noreturn]] void fail(const std::string& what) const;

  std::vector<Segment> split_added(std::string_view text, bool normalized_pass) const;
  void encode_plain(std::string_view text, std::vector<int64_t>& out) const;
  void bpe_piece(const std::string& piece, std::vector<int64_t>& out) const;

  // Heterogeneous lookup: find(std::string_view) without building a std::string.
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  std::string origin_;
  // Model.
  std::unordered_map<std::string, int64_t, StringHash, std::equal_to<>> vocab_;
  std::vector<const std::string*> id_to_token_;  // id -> key in vocab_ (nullptr: no such id)
  bpe::MergeTable merges_;
  std::optional<int64_t> unk_id_;
  bool fuse_unk_ = false, byte_fallback_ = false, ignore_merges_ = false;
  // Pipeline.
  std::vector<AddedToken> added_;
  std::unordered_map<int64_t, size_t> added_by_id_;           // id -> index in added_
  std::vector<std::vector<size_t>> added_by_first_byte_[2];  // [normalized pass][byte] -> indices, longest first
  bool nfc_ = false;
  std::vector<PreStep> pre_steps_;
  bool byte_level_ = false;
  std::vector<int64_t> template_prefix_, template_suffix_;
  std::optional<bool> add_bos_token_;
  std::optional<int64_t> bos_id_, eos_id_;
  int64_t vocab_size_ = 0;

  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int64_t>> cache_;
};

}  // namespace repro
