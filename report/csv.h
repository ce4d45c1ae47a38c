#pragma once
// The CSV report of one table (results/<paper>/<table>.csv), for spreadsheets and scripts.
//
//   row,label,spec,status,<m>,<m>_paper,<m>_diff,...,error
//
// One line per expanded row, in table order: row index, display label, canonical row spec,
// status (ok | error | not_run), then for each TableSpec::metrics metric our value, the paper's
// value (every digit, format_exact) and ours - paper (format_difference); empty when absent. `error` holds
// "<ErrorType>: <message>" for failed rows. Fields are quoted per RFC 4180; lines end with "\n".

#include <string>

#include "report/table_report.h"

namespace repro::report {

std::string render_csv(const TableReport& report);

}  // namespace repro::report
