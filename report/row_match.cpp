#include "report/row_match.h"

#include <unordered_map>

namespace repro::report {

std::string row_state_name(RowState s) {
  switch (s) {
    case RowState::Ok: return "ok";
    case RowState::Failed: return "error";
    case RowState::NotRun: return "not_run";
  }
  return "not_run";
}

std::optional<double> RowResult::metric(const std::string& name) const {
  if (state != RowState::Ok || !record) return std::nullopt;
  auto it = record->metrics.find(name);
  if (it == record->metrics.end()) return std::nullopt;
  return it->second;
}

std::optional<double> RowResult::paper(const std::string& name) const {
  if (!row) return std::nullopt;
  auto it = row->paper.find(name);
  if (it == row->paper.end()) return std::nullopt;
  return it->second;
}

std::vector<RowResult> match_records(const TableSpec& table, const std::vector<Record>& records, uint64_t seed) {
  // Records by canonical row, in input order.
  std::unordered_map<std::string, std::vector<const Record*>> by_row;
  for (const auto& rec : records)
    if (rec.seed == seed) by_row[rec.row_spec].push_back(&rec);

  std::vector<RowResult> out;
  out.reserve(table.rows.size());
  for (const auto& row : table.rows) {
    RowResult r;
    r.row = &row;
    const Record* ok = nullptr;
    const Record* error = nullptr;
    auto it = by_row.find(row.canonical());
    if (it != by_row.end()) {
      for (const Record* rec : it->second) {
        if (rec->scale != row.scale) continue;
        const Record*& chosen = rec->ok() ? ok : error;
        if (chosen == nullptr || rec->finished_at >= chosen->finished_at) chosen = rec;
      }
    }
    if (ok) {
      r.state = RowState::Ok;
      r.record = *ok;
    } else if (error) {
      r.state = RowState::Failed;
      r.record = *error;
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace repro::report
