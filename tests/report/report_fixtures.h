#pragma once
// Shared by the report tests: a fake suite ("report_test", metrics ppl ↓, acc ↑, bits ↓) with one
// component slot filled by a fake method family ("fakeq", parameter bits), tables parsed from
// inline TOML, and records built for rows without running anything.

#include <map>
#include <string>

#include "core/record.h"
#include "core/table_spec.h"

namespace repro::report_test {

// TableSpec::parse of `toml` as "t.toml", id "demo/t", embedded scale.
TableSpec make_table(const std::string& toml);

// An ok record of `row` (seed 0, embedded, model zoo:tiny) finished at `finished_at`.
Record ok_record(const RowSpec& row, std::map<std::string, double> metrics,
                 const std::string& finished_at = "2026-01-01T00:00:00Z");
// An error record of `row`.
Record error_record(const RowSpec& row, const std::string& type, const std::string& message,
                    const std::string& finished_at = "2026-01-01T00:00:00Z");

}  // namespace repro::report_test
