#include "suites/mask_quality/reference_cache.h"

#include <fstream>
#include <sstream>

#include "core/atomic_file.h"
#include "core/disk_cache.h"
#include "core/error.h"
#include "core/hash.h"

namespace repro {

namespace fs = std::filesystem;

namespace {
constexpr int kSchema = 1;
}  // namespace

std::string ReferenceCache::make_key(const std::vector<std::string>& parts) {
  Sha256 h;
  for (const auto& p : parts) {
    h.update(p);
    h.update("\n", 1);
  }
  return h.hex().substr(0, 24);
}

std::optional<ReferenceCache::Hit> ReferenceCache::find(const std::string& key, const fs::path& dir) {
  if (auto it = memory_.find(key); it != memory_.end()) return Hit{it->second, Source::Memory};
  if (dir.empty()) return std::nullopt;
  const fs::path path = dir / (key + ".json");
  std::ifstream in(path);
  if (!in) return std::nullopt;
  try {
    std::stringstream text;
    text << in.rdbuf();
    nlohmann::json j = nlohmann::json::parse(text.str());
    if (j.at("schema").get<int>() != kSchema) return std::nullopt;
    ReferenceResult r;
    r.stats = MaskStats::from_json(j.at("stats"), path.string());
    r.seconds = j.at("seconds").get<double>();
    memory_[key] = r;
    mark_cache_used(path);
    return Hit{r, Source::Disk};
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // truncated or foreign: recompute
  } catch (const DataError&) {
    return std::nullopt;
  }
}

void ReferenceCache::put(const std::string& key, const ReferenceResult& result, const nlohmann::json& about,
                         const fs::path& dir) {
  memory_[key] = result;
  if (dir.empty()) return;
  nlohmann::json j = {{"schema", kSchema}, {"about", about}, {"stats", result.stats.to_json()},
                      {"seconds", result.seconds}};
  write_file_atomic(dir / (key + ".json"), j.dump(1) + "\n");
  enforce_cache_cap(dir.parent_path(), dir / (key + ".json"));  // the root above mask_reference/
}

}  // namespace repro
