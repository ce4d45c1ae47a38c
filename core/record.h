#pragma once
// One result row as stored on disk: results/runs/<paper>/<table>/<key>.json.
//
// Schema 2 (current) adds repeated metrics: a metric measured once per repetition (seed) is stored
// as an object instead of a number,
//     "metrics": {"ppl": 31.7, "acc": {"mean": 0.912, "std": 0.011, "n": 5, "values": [...]}}
// where std is the sample standard deviation (n - 1 in the denominator; 0 when n = 1). An error
// record's "error" object may carry a "hint" (what the user can change). Schema 1 records (every
// metric a number, no hint) are still read.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace repro {

inline constexpr int kRecordSchema = 2;
inline constexpr int kOldestReadableRecordSchema = 1;

// The values of one metric over the repetitions of a row, in repetition order.
struct Repetitions {
  std::vector<double> values;

  size_t n() const { return values.size(); }
  double mean() const;  // NaN when empty (or when a value is NaN)
  // Sample standard deviation (n - 1 denominator); 0 when n == 1, NaN when empty.
  double stddev() const;
};

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
  // A metric's value; for a repeated metric, the mean of its repetitions (so claims, plots and
  // summaries that read `metrics` compare means). Set repeated metrics with set_repeated().
  std::map<std::string, double> metrics;
  std::map<std::string, Repetitions> repetitions;  // repeated metrics only
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
  // Stores a metric measured once per repetition: metrics[name] = mean, repetitions[name] = values.
  void set_repeated(const std::string& name, std::vector<double> values);
  // The repetitions of a metric; nullptr for a metric measured once (or absent).
  const Repetitions* repeated(const std::string& name) const;
  nlohmann::json to_json() const;
  // A schema outside [kOldestReadableRecordSchema, kRecordSchema] or missing fields -> DataError
  // naming `origin`. A record read from an older schema is returned as the current schema.
  static Record from_json(const nlohmann::json& j, const std::string& origin);
};

// Current time as "2026-11-23T14:05:09Z".
std::string utc_timestamp();

}  // namespace repro
