#pragma once
// Token streams and perplexity windows, the GPTQ / SparseGPT convention: tokenize the whole split
// once, cut it into non-overlapping windows of `seqlen` tokens, n = numel / seqlen, drop the
// remainder (optionally keep only the first `max_windows`).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <ATen/core/Tensor.h>

#include "datasets/text_corpus.h"
#include "models/tokenizer.h"

namespace repro {

// Token ids on disk, keyed by (text sha256, tokenizer fingerprint, add_bos). The Tokenizer
// interface has no fingerprint of its own, so the caller supplies one that changes whenever the
// tokenization could (e.g. the sha256 of tokenizer.json / tokenizer.model).
// Files: <dir>/<key>.tok = "RTOK" + u32 version + u64 count + count little-endian int32 ids,
// written atomically. A missing, foreign or truncated file is a miss.
class TokenCache {
 public:
  explicit TokenCache(std::filesystem::path dir);
  const std::filesystem::path& dir() const { return dir_; }

  static std::string key(std::string_view text_sha256, std::string_view tokenizer_fingerprint, bool add_bos);
  std::optional<std::vector<int64_t>> get(const std::string& key) const;
  // Ids outside int32 are not cached (returns false); IoError when the folder is not writable.
  bool put(const std::string& key, const std::vector<int64_t>& ids) const;

 private:
  std::filesystem::path path(const std::string& key) const;
  std::filesystem::path dir_;
};

struct TokenizeOptions {
  // Prepend BOS once, at the start of the split: `tokenizer(text)` in the papers' code adds the
  // tokenizer's special tokens (LLaMA: <s>; OPT: </s>).
  bool add_bos = true;
  const TokenCache* cache = nullptr;    // optional
  std::string tokenizer_fingerprint;    // required for the cache to be used
};

// The whole split as one stream: [numel] int64, CPU. One tokenizer call (or none on a cache hit).
at::Tensor tokenize_split(const TextSplit& split, const Tokenizer& tokenizer, const TokenizeOptions& options = {});

// ids: [numel] (or [1, numel]) int64 -> [n, seqlen] int64, a copy; n = min(numel / seqlen, max_windows).
// seqlen < 1 or max_windows < 1 -> ConfigError; fewer than seqlen tokens -> DataError.
at::Tensor eval_windows(const at::Tensor& ids, int64_t seqlen, std::optional<int64_t> max_windows = std::nullopt);

// tokenize_split + eval_windows.
at::Tensor eval_windows(const TextSplit& split, const Tokenizer& tokenizer, int64_t seqlen,
                        std::optional<int64_t> max_windows = std::nullopt, const TokenizeOptions& options = {});

// vector -> [n] int64 CPU tensor (a copy).
at::Tensor ids_tensor(const std::vector<int64_t>& ids);

}  // namespace repro
