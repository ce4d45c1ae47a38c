#include "suites/engine/hessian_cache.h"

#include "core/disk_cache.h"
#include "core/error.h"
#include "core/hash.h"
#include "models/safetensors.h"

namespace repro {

std::string HessianCache::make_key(const std::vector<std::string>& parts) {
  Sha256 h;
  for (const auto& p : parts) {
    h.update(p);
    h.update("\n", 1);
  }
  return h.hex().substr(0, 24);
}

std::optional<CachedHessians> HessianCache::load(const std::string& key) const {
  if (!enabled()) return std::nullopt;
  auto path = dir_ / (key + ".safetensors");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  try {
    SafetensorsFile f(path);
    CachedHessians out;
    for (const auto& name : f.names()) out.H[name] = f.get(name);
    auto it = f.metadata().find("n_samples");
    if (it == f.metadata().end()) return std::nullopt;
    out.n_samples = std::stoll(it->second);
    mark_cache_used(path);
    return out;
  } catch (const Error&) {
    return std::nullopt;  // a truncated or foreign file: recompute
  }
}

void HessianCache::store(const std::string& key, const CachedHessians& h) const {
  if (!enabled()) return;
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& [name, t] : h.H) tensors.emplace_back(name, t.to(at::kCPU).contiguous());
  std::filesystem::create_directories(dir_);
  const auto path = dir_ / (key + ".safetensors");
  save_safetensors(path, tensors, {{"n_samples", std::to_string(h.n_samples)}});
  // The cache root is the folder above hessians/ (core/disk_cache.h); elsewhere nothing is pruned.
  enforce_cache_cap(dir_.parent_path(), path);
}

}  // namespace repro
