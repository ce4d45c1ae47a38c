#pragma once
// Everything a table report shows, computed once from the records and shared by the Markdown and
// LaTeX renderers: the matched row results, the claim checks, and the columns with their cells.
//
// Columns: the row's display label, then for each TableSpec::metrics metric: ours, the paper's
// value and Δ = ours - paper (an absolute difference in the metric's unit, with its precision).
// The paper and Δ columns of a metric are left out when no row has a paper value for it.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/record.h"
#include "core/table_spec.h"
#include "report/claims.h"
#include "report/number_format.h"
#include "report/row_match.h"

namespace repro::report {

struct TableReport {
  const TableSpec* table = nullptr;  // must outlive the report
  uint64_t seed = 0;
  std::vector<RowResult> rows;      // one per table row, in order
  std::vector<ClaimResult> claims;  // one per claim, in order

  size_t count(RowState state) const;
  // Distinct model.name of the matched records, in row order.
  std::vector<std::string> model_names() const;
  // The matched record (ok or error) that finished last; null when no row has a record.
  const Record* newest_record() const;
  // True when some row flagged paper_uncertain has a paper value for one of the metrics.
  bool has_uncertain_paper_values() const;
  // The distinct repetition counts (n) of the repeated metrics shown (ok rows), ascending; empty
  // when every shown value was measured once.
  std::vector<size_t> repetition_counts() const;
};

// Matches records to rows (match_records) and checks the claims (check_claims).
TableReport build_table_report(const TableSpec& table, const std::vector<Record>& records, uint64_t seed);

struct Column {
  enum class Kind { Label, Ours, Paper, Diff };
  Kind kind = Kind::Label;
  std::string metric;  // empty for the label column
  // Header text: "method", "<metric>", "paper" or "paper (<paper model>)", "Δ".
  std::string header;
};

std::vector<Column> report_columns(const TableReport& report);

// The text of one cell, unescaped UTF-8. Ours: the value with the metric's precision, "mean ± std"
// for a repeated metric (format_mean_std), "–" when not run or absent, "error: <type>" for a failed
// row. Paper: the value with a trailing "?" when the
// row's paper values are uncertain, "–" when absent. Δ: signed difference, "–" unless both exist.
std::string cell_text(const TableReport& report, const RowResult& row, const Column& column);

// An Ours cell of a repeated metric as its two parts (for renderers that typeset "±" themselves);
// nullopt for any other cell.
std::optional<MeanStdText> mean_std_cell(const TableReport& report, const RowResult& row, const Column& column);

// The environment footer line from the newest record: "git abc · libtorch 1.13.1 · blas openblas ·
// cpu X · gpu none · build Release"; empty when no row has a record.
std::string environment_line(const TableReport& report);

}  // namespace repro::report
