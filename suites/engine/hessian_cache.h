#pragma once
// A disk cache of the per-block calibration Hessians, so the rows of a table calibrate once.
//
// The Hessians of block i depend on the model, the calibration tokens, the engine settings and —
// because calibration is sequential — on how blocks 0..i-1 were compressed. The key hashes all of
// these; block 0's Hessians depend on no method, so every row of a table shares them, and a row
// that is re-run (crash, --force, a new evaluation dataset) reuses all of its own.
//
// Files: <dir>/<key>.safetensors, one tensor per input group ("q_proj" stands for q/k/v, ...),
// metadata "n_samples". Written atomically; a corrupt file is a miss.

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include <ATen/core/Tensor.h>

namespace repro {

struct CachedHessians {
  std::map<std::string, at::Tensor> H;  // group name -> [in, in] fp32 (CPU)
  int64_t n_samples = 0;
};

class HessianCache {
 public:
  // Empty dir: disabled (every lookup misses, stores do nothing).
  explicit HessianCache(std::filesystem::path dir) : dir_(std::move(dir)) {}

  bool enabled() const { return !dir_.empty(); }
  std::optional<CachedHessians> load(const std::string& key) const;
  void store(const std::string& key, const CachedHessians& h) const;

  // sha256 of the parts, joined; 24 hex digits.
  static std::string make_key(const std::vector<std::string>& parts);

 private:
  std::filesystem::path dir_;
};

}  // namespace repro
