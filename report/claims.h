#pragma once
// Checking a paper's claims ([[claims]] in a table config) on our numbers and on the paper's.
//
// With a = metric(row a), b = metric(row b), r = metric(reference row) and t = threshold:
//   less         pass iff a < b - t*|b|        (t: relative margin, default 0)
//   greater      pass iff a > b + t*|b|
//   better       less when the metric is lower-is-better, greater when higher-is-better
//   gap_closed   fraction f = (b - a) / (b - r) for lower-is-better, (a - b) / (r - b) for
//                higher-is-better: A closes this fraction of the gap between B and the reference
//                row (typically Dense); pass iff f >= t. Not evaluable when b == r. (The two
//                forms are the same number, so the fraction needs no direction.)
//   ratio_below  pass iff a / b <= t;   ratio_above  pass iff a / b >= t.  Not evaluable when b == 0.
//   at_most      pass iff a <= t;       at_least     pass iff a >= t  (one row; b is a).
// A claim is NotRun when a row it needs was not run, failed, lacks the metric or holds NaN, or
// when it is not evaluable; its detail then says why.

#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "core/table_spec.h"
#include "report/row_match.h"

namespace repro::report {

enum class ClaimStatus { Pass, Fail, NotRun };
std::string claim_status_symbol(ClaimStatus s);  // "✓" | "✗" | "–"
std::string claim_status_name(ClaimStatus s);    // "pass" | "fail" | "not run"

struct ClaimOutcome {
  ClaimStatus status = ClaimStatus::NotRun;
  // The compared quantity: a for less/greater/better, the gap fraction, the ratio; NaN when NotRun.
  double value = std::numeric_limits<double>::quiet_NaN();
  // One line starting with who was evaluated: "ours: 31.7 vs 39.0", "paper: 41% of the gap
  // (...)", "ours: ratio 2.71 (5.42 / 2.00)", or "ours: not run (row 'OATS' has no record)".
  std::string detail;
};

// Evaluates one claim on numbers. `direction` is the metric's (TableSpec::metric_better); `ref` is
// read by gap_closed only; `digits` formats the values; `who` starts the detail ("ours", "paper").
// NaN inputs give NotRun.
ClaimOutcome evaluate_claim(const ClaimSpec& claim, Better direction, double a, double b, double ref, int digits,
                            const std::string& who);

// The claim in words when the config gives no text: "RTN [bits=3] < GPTQ (ppl)",
// "A closes ≥ 30% of the gap from B to Dense (ppl)".
std::string describe_claim(const ClaimSpec& claim, Better direction);

struct ClaimResult {
  ClaimSpec claim;
  std::string description;  // claim.text, or describe_claim() when the config gives none
  ClaimOutcome ours;
  // The same claim on the paper's numbers, when every row it involves has a paper value.
  std::optional<ClaimOutcome> paper;
};

// One line for terminals, logs and the Markdown list:
// "✓ <description> — ours: 31.7 vs 39.0 · paper: 9.78 vs 14.8 ✓" (the paper part when evaluated).
std::string claim_line(const ClaimResult& result);

// One result per claim of `table`, in order; `rows` is match_records(table, ...).
std::vector<ClaimResult> check_claims(const TableSpec& table, const std::vector<RowResult>& rows);

}  // namespace repro::report
