#pragma once
// The table driver: plans the rows of a table (cached or missing), runs the missing ones through
// their suite, and stores one record per row. A failed row becomes an error record and the sweep
// goes on; error records are retried on the next run.
//
// Concurrent processes on one table split its rows: a row is computed under a claim (core/row_claim.h)
// and a process skips rows another live process has claimed. Before it returns, run() waits for
// those rows to be recorded by their owners, so every process ends with the whole table (and its
// report); a row whose owner died without a record is taken over.

#include <filesystem>
#include <optional>
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
  bool wait_for_others = true;  // wait for rows other processes are computing (false: leave them)
  double poll_seconds = 1.0;    // how often to look at rows other processes are computing
};

struct PlannedRow {
  const RowSpec* row = nullptr;
  std::string key;
  nlohmann::json fingerprint;
  enum class State { Cached, Missing, Failed, Unavailable } state = State::Missing;
  std::string reason;  // why Failed (previous error) or Unavailable (fingerprint failed)
  bool had_ok_record = false;  // a valid record existed at planning time (recomputed under --force)
  std::optional<std::pair<uint64_t, int64_t>> stamp;  // the record file's identity at planning time
};

struct DriverSummary {
  size_t planned = 0, cached = 0, ran = 0, failed = 0;
  size_t elsewhere = 0;  // rows another process computed while this one ran
};

// The cache key of a row: sha256 over its canonical spec, the suite's fingerprint of what it reads
// (model, data), the versions of every plugin involved, the seed and the scale. 20 hex digits.
std::string row_key(const RowSpec& row, const nlohmann::json& fingerprint, uint64_t seed, const SuiteInfo& suite);

class TableDriver {
 public:
  TableDriver(const TableSpec& table, ResultStore& store, RunContext& ctx);

  std::vector<PlannedRow> plan(const DriverOptions& options);
  DriverSummary run(const DriverOptions& options);

  // Runs one row regardless of the cache and stores its record (used by run-row), under its claim;
  // nullopt when another live process is computing the row (`holder` says who).
  std::optional<Record> run_row(const RowSpec& row, std::string* holder = nullptr);

  // The suite's estimate of what the row needs (Suite::estimate); null when it has none, and
  // {"summary": "no estimate: <why>"} when making it failed (a missing model, say).
  nlohmann::json estimate(const RowSpec& row);

 private:
  Record execute(const RowSpec& row, const std::string& key, const nlohmann::json& fingerprint, bool recomputed);
  bool selected(const RowSpec& row, const DriverOptions& options) const;

  const TableSpec& table_;
  ResultStore& store_;
  RunContext& ctx_;
  std::unique_ptr<Suite> suite_;
};

}  // namespace repro
