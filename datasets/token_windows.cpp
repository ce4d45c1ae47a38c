#include "datasets/token_windows.h"

#include <ATen/ATen.h>

#include <cstring>
#include <fstream>
#include <limits>

#include <fmt/format.h>

#include "core/disk_cache.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/store.h"

namespace repro {
namespace fs = std::filesystem;

namespace {
constexpr char kMagic[4] = {'R', 'T', 'O', 'K'};
constexpr uint32_t kVersion = 1;
}  // namespace

TokenCache::TokenCache(fs::path dir) : dir_(std::move(dir)) {}

std::string TokenCache::key(std::string_view text_sha256, std::string_view tokenizer_fingerprint, bool add_bos) {
  return sha256_hex(fmt::format("tokens-v{}\n{}\n{}\n{}", kVersion, text_sha256, tokenizer_fingerprint,
                                add_bos ? "bos" : "nobos"));
}

fs::path TokenCache::path(const std::string& key) const { return dir_ / (key + ".tok"); }

std::optional<std::vector<int64_t>> TokenCache::get(const std::string& key) const {
  std::ifstream in(path(key), std::ios::binary);
  if (!in) return std::nullopt;
  char magic[4];
  uint32_t version = 0;
  uint64_t count = 0;
  in.read(magic, 4);
  in.read(reinterpret_cast<char*>(&version), sizeof version);
  in.read(reinterpret_cast<char*>(&count), sizeof count);
  if (!in || std::memcmp(magic, kMagic, 4) != 0 || version != kVersion) return std::nullopt;
  std::error_code ec;
  auto size = fs::file_size(path(key), ec);
  if (ec || size != 16 + count * sizeof(int32_t)) return std::nullopt;
  std::vector<int32_t> raw(count);
  in.read(reinterpret_cast<char*>(raw.data()), static_cast<std::streamsize>(count * sizeof(int32_t)));
  if (!in) return std::nullopt;
  mark_cache_used(path(key));
  return std::vector<int64_t>(raw.begin(), raw.end());
}

bool TokenCache::put(const std::string& key, const std::vector<int64_t>& ids) const {
  std::string content(16 + ids.size() * sizeof(int32_t), '\0');
  std::memcpy(content.data(), kMagic, 4);
  std::memcpy(content.data() + 4, &kVersion, sizeof kVersion);
  uint64_t count = ids.size();
  std::memcpy(content.data() + 8, &count, sizeof count);
  char* p = content.data() + 16;
  for (int64_t id : ids) {
    if (id < std::numeric_limits<int32_t>::min() || id > std::numeric_limits<int32_t>::max()) return false;
    int32_t v = static_cast<int32_t>(id);
    std::memcpy(p, &v, sizeof v);
    p += sizeof v;
  }
  write_file_atomic(path(key), content);
  enforce_cache_cap(dir_.parent_path(), path(key));  // the root above tokens/ (core/disk_cache.h)
  return true;
}

at::Tensor ids_tensor(const std::vector<int64_t>& ids) {
  at::Tensor t = at::empty({static_cast<int64_t>(ids.size())}, at::kLong);
  if (!ids.empty()) std::memcpy(t.data_ptr<int64_t>(), ids.data(), ids.size() * sizeof(int64_t));
  return t;
}

at::Tensor tokenize_split(const TextSplit& split, const Tokenizer& tokenizer, const TokenizeOptions& options) {
  bool use_cache = options.cache && !options.tokenizer_fingerprint.empty();
  std::string key;
  if (use_cache) {
    key = TokenCache::key(split.sha256, options.tokenizer_fingerprint, options.add_bos);
    if (auto hit = options.cache->get(key)) return ids_tensor(*hit);
  }
  std::vector<int64_t> ids = tokenizer.encode(split.text, options.add_bos);
  if (use_cache) options.cache->put(key, ids);
  return ids_tensor(ids);
}

at::Tensor eval_windows(const at::Tensor& ids, int64_t seqlen, std::optional<int64_t> max_windows) {
  if (seqlen < 1) throw ConfigError(fmt::format("seqlen must be at least 1 (got {})", seqlen));
  if (max_windows && *max_windows < 1)
    throw ConfigError(fmt::format("max_windows must be at least 1 (got {})", *max_windows));
  REPRO_ASSERT(ids.scalar_type() == at::kLong && (ids.dim() == 1 || (ids.dim() == 2 && ids.size(0) == 1)),
               "eval_windows wants [numel] or [1, numel] int64 ids");
  at::Tensor flat = ids.reshape({-1});
  int64_t n = flat.numel() / seqlen;
  if (n == 0)
    throw DataError(fmt::format("the text has {} tokens, fewer than one window of seqlen {}", flat.numel(), seqlen));
  if (max_windows) n = std::min(n, *max_windows);
  return flat.narrow(0, 0, n * seqlen).reshape({n, seqlen}).clone();
}

at::Tensor eval_windows(const TextSplit& split, const Tokenizer& tokenizer, int64_t seqlen,
                        std::optional<int64_t> max_windows, const TokenizeOptions& options) {
  try {
    return eval_windows(tokenize_split(split, tokenizer, options), seqlen, max_windows);
  } catch (const DataError& e) {
    throw DataError(fmt::format("{} ({}): {}", split.name, split.source.string(), e.what()));
  }
}

}  // namespace repro
