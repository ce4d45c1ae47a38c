#pragma once
// The disk caches under one root (default <results>/cache): Hessians of calibration blocks
// (hessians/), tokenized corpora (tokens/), transposable-mask reference results (mask_reference/).
// Everything in them can be recomputed, so the caches are bounded: after every write the least
// recently used files are evicted until the root is under its size cap (default 10 GiB; the
// environment variable REPRO_CACHE_MAX_SIZE changes it, "off" removes it). A hit marks its file
// used by setting its modification time, which is what "least recently used" reads.
//
// Only the known kinds' folders are ever scanned or pruned, so a cache root that happens to be a
// shared folder (e.g. /tmp) loses nothing else. Concurrent processes may evict each other's files:
// a reader that loses a file sees a miss and recomputes; files are written atomically elsewhere.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace repro {

// The cache kinds, i.e. the folder names under a cache root.
const std::vector<std::string>& cache_kinds();

struct CacheEntry {
  std::filesystem::path path;
  std::string kind;
  uint64_t bytes = 0;
  std::filesystem::file_time_type last_used;
};

// Every cache file under `root` (temporary files of writers in progress excluded), oldest use first.
std::vector<CacheEntry> list_cache(const std::filesystem::path& root);
uint64_t total_bytes(const std::vector<CacheEntry>& entries);

// Marks a cache file as just used (a hit). Errors are ignored: the file may have been evicted.
void mark_cache_used(const std::filesystem::path& file);

struct PruneOptions {
  std::optional<uint64_t> max_bytes;                      // evict LRU files until the total is under this
  std::optional<std::chrono::seconds> older_than;         // evict files unused for longer than this
  std::optional<std::string> kind;                        // only this kind
  std::filesystem::path keep;                             // never evict this file (the one just written)
  bool dry_run = false;                                   // report what would go, remove nothing
};
struct PruneResult {
  size_t removed = 0;
  uint64_t freed_bytes = 0, remaining_bytes = 0;
};
PruneResult prune_cache(const std::filesystem::path& root, const PruneOptions& options);

// The size cap: REPRO_CACHE_MAX_SIZE when set ("off" -> nullopt; malformed -> ConfigError), else 10 GiB.
std::optional<uint64_t> default_cache_cap();
// Applies the cap to `root` (called after each cache write); `just_written` is never evicted.
void enforce_cache_cap(const std::filesystem::path& root, const std::filesystem::path& just_written = {});

// "500M", "10G", "1.5GiB", "2048" (bytes) -> bytes; nullopt when malformed. K/M/G/T are powers of 1024.
std::optional<uint64_t> parse_size(std::string_view text);
// "30m", "12h", "7d", "2w", "90s" -> seconds; nullopt when malformed.
std::optional<std::chrono::seconds> parse_age(std::string_view text);
// 1536 -> "1.5 KiB".
std::string format_bytes(uint64_t bytes);

}  // namespace repro
