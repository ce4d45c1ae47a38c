#pragma once
// Matching stored records to the rows of a table, from the records alone (nothing is recomputed).
//
// A record belongs to a row when its canonical row (`row_spec`) equals RowSpec::canonical(), its
// scale equals the row's scale and its seed equals the report's seed. Among those, the newest `ok`
// record wins; when a row has only error records, the newest error record is kept so the report
// can show the failure. Records that match no row (another seed, another scale, a config that has
// changed since) are ignored.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/record.h"
#include "core/table_spec.h"

namespace repro::report {

enum class RowState { Ok, Failed, NotRun };
std::string row_state_name(RowState s);  // "ok" | "error" | "not_run"

struct RowResult {
  const RowSpec* row = nullptr;  // points into the TableSpec, which must outlive this
  RowState state = RowState::NotRun;
  std::optional<Record> record;  // the chosen record: ok, or error when the row failed; empty when not run

  // The row's value of `metric` from an ok record; nullopt when the row is not ok or lacks the
  // metric. A recorded NaN is returned as NaN.
  std::optional<double> metric(const std::string& name) const;
  // The paper's value of `metric` for this row, if the config gives one.
  std::optional<double> paper(const std::string& name) const;
};

// "Newer" for records: later finished_at (ISO 8601 UTC, so text order is time order); ties go to
// the record that comes later in the input.
// One result per row of `table`, in row order.
std::vector<RowResult> match_records(const TableSpec& table, const std::vector<Record>& records, uint64_t seed);

}  // namespace repro::report
