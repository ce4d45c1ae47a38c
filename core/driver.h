#pragma once
// The table driver: plans the rows of a table (cached or missing), runs the missing ones through
// their suite, and stores one record per row. A failed row becomes an error record and the sweep
// goes on; error records are retried on the next run.

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/run_context.h"
#include "core/store.h"
#include "core/table_spec.h"

namespace repro {

struct DriverOptions {
  std::string rows_glob;  // --rows: only rows whose display label matches (empty: all)
  bool force = false;     // recompute rows that have a record
};

struct PlannedRow {
  const RowSpec* row = nullptr;
  std::string key;
  nlohmann::json fingerprint;
  enum class State { Cached, Missing, Failed, Unavailable } state = State::Missing;
  std::string reason;  // why Failed (previous error) or Unavailable (fingerprint failed)
};

struct DriverSummary {
  size_t planned = 0, cached = 0, ran = 0, failed = 0;
};

// The cache key of a row: sha256 over its canonical spec, the suite's fingerprint of what it reads
// (model, data), the versions of every plugin involved, the seed and the scale. 20 hex digits.
std::string row_key(const RowSpec& row, const nlohmann::json& fingerprint, uint64_t seed, const SuiteInfo& suite);

class TableDriver {
 public:
  TableDriver(const TableSpec& table, ResultStore& store, RunContext& ctx);

  std::vector<PlannedRow> plan(const DriverOptions& options);
  DriverSummary run(const DriverOptions& options);

  // Runs one row regardless of the cache and stores its record (used by run-row).
  Record run_row(const RowSpec& row);

 private:
  Record execute(const RowSpec& row, const std::string& key, const nlohmann::json& fingerprint);
  bool selected(const RowSpec& row, const DriverOptions& options) const;

  const TableSpec& table_;
  ResultStore& store_;
  RunContext& ctx_;
  std::unique_ptr<Suite> suite_;
};

}  // namespace repro
