#pragma once
// The reference solver's result on one (matrix, pattern), computed once and then reused: by the
// other rows of a table run (in memory, for the life of the suite instance, which the table driver
// keeps for the whole table) and by later runs and other tables (on disk, one small JSON file per
// result under <cache dir>/mask_reference/, when the run has a cache folder). The reference is the
// slow part of a row (an exact solver takes minutes on a 4096 x 14336 matrix), and every row of a
// table measures against the same one.
//
// A result is the reference mask's measurement and the seconds it took, not the mask: that is all
// a row needs. Its key hashes the reference's canonical spec and plugin versions, the matrix's
// identity, the pattern and the device type (the seconds depend on it). Files are written
// atomically; a file that cannot be read is a miss.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "suites/mask_quality/mask_stats.h"

namespace repro {

struct ReferenceResult {
  MaskStats stats;
  double seconds = 0;  // the reference solver's wall time when it was computed
};

class ReferenceCache {
 public:
  enum class Source { Memory, Disk };
  struct Hit {
    ReferenceResult result;
    Source source;
  };

  // Memory first, then <dir>/<key>.json (remembered in memory when found). `dir` empty: memory only.
  std::optional<Hit> find(const std::string& key, const std::filesystem::path& dir);
  // Remembers the result, and writes it to <dir>/<key>.json with `about` (what was solved, for a
  // reader of the file) unless `dir` is empty.
  void put(const std::string& key, const ReferenceResult& result, const nlohmann::json& about,
           const std::filesystem::path& dir);

  // sha256 of the parts, joined by newlines; 24 hex digits.
  static std::string make_key(const std::vector<std::string>& parts);

 private:
  std::map<std::string, ReferenceResult> memory_;
};

}  // namespace repro
