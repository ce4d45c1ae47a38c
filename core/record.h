#pragma once
// One result row as stored on disk: results/runs/<paper>/<table>/<key>.json.

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace repro {

inline constexpr int kRecordSchema = 1;

struct Record {
  int schema = kRecordSchema;
  std::string table;      // "examples/layer_error"
  std::string key;        // cache key (hex)
  int64_t row = -1;       // index in the expanded table
  std::string label;      // display label, with sweep values
  std::string spec;       // canonical pipeline: "sparsegpt(pattern=2:4,...)+tm(epochs=1)"
  std::string row_spec;   // canonical row: pipeline + suite parameters
  std::string scale;      // "embedded" or "paper"
  uint64_t seed = 0;
  nlohmann::json model = nullptr;  // {"name", "sha256", ...}
  nlohmann::json data = nullptr;   // {"calibration", "sha256", ...}
  std::map<std::string, double> metrics;
  std::map<std::string, double> time_s;
  std::map<std::string, double> peak_mem_mb;
  std::map<std::string, int64_t> counters;
  nlohmann::json details = nlohmann::json::object();  // suite-specific extras (per-layer stats, ...)
  nlohmann::json env = nlohmann::json::object();
  std::string status = "ok";  // "ok" | "error"
  std::string error_type, error_message;
  std::string error_hint;  // what the user can change (e.g. a smaller batch); may be empty
  std::string started_at, finished_at;  // ISO 8601 UTC

  bool ok() const { return status == "ok"; }
  nlohmann::json to_json() const;
  // Wrong schema or missing fields -> DataError naming `origin`.
  static Record from_json(const nlohmann::json& j, const std::string& origin);
};

// Current time as "2026-11-23T14:05:09Z".
std::string utc_timestamp();

}  // namespace repro
