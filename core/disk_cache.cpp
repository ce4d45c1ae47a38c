#include "core/disk_cache.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "core/error.h"

namespace repro {

namespace fs = std::filesystem;

const std::vector<std::string>& cache_kinds() {
  static const std::vector<std::string> kinds = {"hessians", "tokens", "mask_reference"};
  return kinds;
}

std::vector<CacheEntry> list_cache(const fs::path& root) {
  std::vector<CacheEntry> out;
  if (root.empty()) return out;
  for (const auto& kind : cache_kinds()) {
    std::error_code ec;
    const fs::path dir = root / kind;
    if (!fs::is_directory(dir, ec)) continue;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      const auto name = it->path().filename().string();
      if (name.empty() || name[0] == '.') continue;  // temporary files of writers in progress
      std::error_code e2;
      if (!it->is_regular_file(e2)) continue;
      CacheEntry c;
      c.path = it->path();
      c.kind = kind;
      c.bytes = it->file_size(e2);
      c.last_used = it->last_write_time(e2);
      if (!e2) out.push_back(std::move(c));
    }
  }
  std::sort(out.begin(), out.end(), [](const CacheEntry& a, const CacheEntry& b) { return a.last_used < b.last_used; });
  return out;
}

uint64_t total_bytes(const std::vector<CacheEntry>& entries) {
  uint64_t n = 0;
  for (const auto& e : entries) n += e.bytes;
  return n;
}

void mark_cache_used(const fs::path& file) {
  std::error_code ec;
  fs::last_write_time(file, fs::file_time_type::clock::now(), ec);
}

PruneResult prune_cache(const fs::path& root, const PruneOptions& options) {
  PruneResult r;
  auto entries = list_cache(root);
  uint64_t total = total_bytes(entries);
  const auto now = fs::file_time_type::clock::now();
  for (const auto& e : entries) {  // oldest use first
    if (options.kind && e.kind != *options.kind) continue;
    if (!options.keep.empty() && e.path == options.keep) continue;
    const bool too_old = options.older_than && now - e.last_used > *options.older_than;
    const bool over_cap = options.max_bytes && total > *options.max_bytes;
    if (!too_old && !over_cap) continue;
    std::error_code ec;
    if (!options.dry_run && !fs::remove(e.path, ec)) continue;  // gone already (another process) or locked
    ++r.removed;
    r.freed_bytes += e.bytes;
    total -= e.bytes;
  }
  r.remaining_bytes = total;
  return r;
}

std::optional<uint64_t> default_cache_cap() {
  const char* env = std::getenv("REPRO_CACHE_MAX_SIZE");
  if (!env || !*env) return uint64_t{10} << 30;
  std::string v = env;
  if (v == "off" || v == "none") return std::nullopt;
  auto bytes = parse_size(v);
  if (!bytes)
    throw ConfigError(fmt::format("REPRO_CACHE_MAX_SIZE='{}' is not a size: write e.g. 500M, 10G or 1.5GiB (powers of "
                                  "1024), or off for no cap",
                                  v));
  return bytes;
}

void enforce_cache_cap(const fs::path& root, const fs::path& just_written) {
  auto cap = default_cache_cap();
  if (!cap || root.empty()) return;
  PruneOptions o;
  o.max_bytes = cap;
  o.keep = just_written;
  prune_cache(root, o);
}

namespace {
// "1.5GiB" -> (1.5, "gib"): a finite non-negative number and its lower-cased unit; nullopt otherwise.
std::optional<std::pair<double, std::string>> number_and_unit(std::string_view text) {
  const std::string s(text);
  size_t pos = 0;
  double value = 0;
  try {
    value = std::stod(s, &pos);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (!std::isfinite(value) || value < 0) return std::nullopt;
  std::string unit = s.substr(pos);
  if (!unit.empty() && unit[0] == ' ') unit.erase(0, 1);
  std::transform(unit.begin(), unit.end(), unit.begin(), [](unsigned char c) { return std::tolower(c); });
  return std::make_pair(value, unit);
}
}  // namespace

std::optional<uint64_t> parse_size(std::string_view text) {
  auto parsed = number_and_unit(text);
  if (!parsed) return std::nullopt;
  const auto& [value, unit] = *parsed;
  static const std::pair<const char*, int> units[] = {{"", 0},    {"b", 0},   {"k", 1},   {"kb", 1},  {"kib", 1},
                                                      {"m", 2},   {"mb", 2},  {"mib", 2}, {"g", 3},   {"gb", 3},
                                                      {"gib", 3}, {"t", 4},   {"tb", 4},  {"tib", 4}};
  for (const auto& [name, power] : units)
    if (unit == name) {
      const double bytes = value * std::pow(1024.0, power);
      if (bytes > 1.8e19) return std::nullopt;
      return static_cast<uint64_t>(std::llround(bytes));
    }
  return std::nullopt;
}

std::optional<std::chrono::seconds> parse_age(std::string_view text) {
  auto parsed = number_and_unit(text);
  if (!parsed) return std::nullopt;
  const auto& [value, unit] = *parsed;
  static const std::pair<const char*, double> units[] = {{"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}, {"w", 604800}};
  for (const auto& [name, seconds] : units)
    if (unit == name) return std::chrono::seconds(static_cast<int64_t>(std::llround(value * seconds)));
  return std::nullopt;
}

std::string format_bytes(uint64_t bytes) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  return u == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", v, units[u]);
}

}  // namespace repro
