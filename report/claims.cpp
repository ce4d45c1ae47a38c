#include "report/claims.h"

#include <cmath>

#include <fmt/format.h>

#include "core/error.h"
#include "report/number_format.h"

namespace repro::report {

std::string claim_status_symbol(ClaimStatus s) {
  switch (s) {
    case ClaimStatus::Pass: return "✓";
    case ClaimStatus::Fail: return "✗";
    case ClaimStatus::NotRun: return "–";
  }
  return "–";
}

std::string claim_status_name(ClaimStatus s) {
  switch (s) {
    case ClaimStatus::Pass: return "pass";
    case ClaimStatus::Fail: return "fail";
    case ClaimStatus::NotRun: return "not run";
  }
  return "not run";
}

namespace {

constexpr int kRatioDigits = 3;  // ratios and gap fractions are shown with 3 significant digits

ClaimOutcome not_run(const std::string& who, const std::string& why) {
  ClaimOutcome o;
  o.detail = fmt::format("{}: not run ({})", who, why);
  return o;
}

ClaimOutcome not_evaluable(const std::string& who, const std::string& why) {
  ClaimOutcome o;
  o.detail = fmt::format("{}: not evaluable ({})", who, why);
  return o;
}

ClaimOutcome decide(bool pass, double value, std::string detail) {
  ClaimOutcome o;
  o.status = pass ? ClaimStatus::Pass : ClaimStatus::Fail;
  o.value = value;
  o.detail = std::move(detail);
  return o;
}

// less / greater with a relative margin: a < b - t|b|, a > b + t|b|.
ClaimOutcome compare(bool less, const ClaimSpec& c, double a, double b, int digits, const std::string& who) {
  double bound = less ? b - c.threshold * std::fabs(b) : b + c.threshold * std::fabs(b);
  bool pass = less ? a < bound : a > bound;
  std::string detail = fmt::format("{}: {} vs {}", who, format_value(a, digits), format_value(b, digits));
  if (c.threshold != 0.0) detail += fmt::format(" (needs {} {})", less ? "<" : ">", format_value(bound, digits));
  return decide(pass, a, std::move(detail));
}

std::string percent(double fraction) { return format_trimmed(fraction * 100.0, kRatioDigits) + "%"; }

}  // namespace

ClaimOutcome evaluate_claim(const ClaimSpec& c, Better direction, double a, double b, double ref, int digits,
                            const std::string& who) {
  bool uses_ref = c.kind == ClaimKind::GapClosed;
  if (std::isnan(a) || std::isnan(b) || (uses_ref && std::isnan(ref)))
    return not_run(who, fmt::format("'{}' is NaN", c.metric));
  switch (c.kind) {
    case ClaimKind::Less: return compare(true, c, a, b, digits, who);
    case ClaimKind::Greater: return compare(false, c, a, b, digits, who);
    case ClaimKind::Better:
      if (direction == Better::None)
        return not_evaluable(who, fmt::format("'{}' has no direction", c.metric));
      return compare(direction == Better::Lower, c, a, b, digits, who);
    case ClaimKind::GapClosed: {
      // (b - a) / (b - ref) for lower-is-better equals (a - b) / (ref - b) for higher-is-better:
      // one formula serves both directions.
      if (b == ref)
        return not_evaluable(who, fmt::format("{} and the reference row are equal: {}", c.b, format_value(b, digits)));
      double f = (b - a) / (b - ref);
      return decide(f >= c.threshold, f,
                    fmt::format("{}: {} of the gap ({} vs {}, ref {})", who, percent(f), format_value(a, digits),
                                format_value(b, digits), format_value(ref, digits)));
    }
    case ClaimKind::RatioBelow:
    case ClaimKind::RatioAbove: {
      if (b == 0.0) return not_evaluable(who, fmt::format("{} is 0, the ratio is undefined", c.b));
      double ratio = a / b;
      bool pass = c.kind == ClaimKind::RatioBelow ? ratio <= c.threshold : ratio >= c.threshold;
      return decide(pass, ratio,
                    fmt::format("{}: ratio {} ({} / {})", who, format_value(ratio, kRatioDigits),
                                format_value(a, digits), format_value(b, digits)));
    }
    case ClaimKind::AtMost:
    case ClaimKind::AtLeast: {
      const bool at_most = c.kind == ClaimKind::AtMost;
      return decide(at_most ? a <= c.threshold : a >= c.threshold, a,
                    fmt::format("{}: {} (needs {} {})", who, format_value(a, digits), at_most ? "≤" : "≥",
                                format_trimmed(c.threshold, 6)));
    }
  }
  REPRO_ASSERT(false, "unhandled claim kind");
}

std::string describe_claim(const ClaimSpec& c, Better direction) {
  auto margin = [&]() -> std::string {
    if (c.threshold > 0) return fmt::format(" by ≥ {}", percent(c.threshold));
    if (c.threshold < 0) return fmt::format(" within {}", percent(-c.threshold));
    return "";
  };
  switch (c.kind) {
    case ClaimKind::Less: return fmt::format("{} < {}{} ({})", c.a, c.b, margin(), c.metric);
    case ClaimKind::Greater: return fmt::format("{} > {}{} ({})", c.a, c.b, margin(), c.metric);
    case ClaimKind::Better:
      return fmt::format("{} better than {}{} ({}, {} is better)", c.a, c.b, margin(), c.metric,
                         better_name(direction));
    case ClaimKind::GapClosed:
      return fmt::format("{} closes ≥ {} of the gap from {} to {} ({})", c.a, percent(c.threshold), c.b, c.ref,
                         c.metric);
    case ClaimKind::RatioBelow:
      return fmt::format("{} / {} ≤ {} ({})", c.a, c.b, format_trimmed(c.threshold, 6), c.metric);
    case ClaimKind::RatioAbove:
      return fmt::format("{} / {} ≥ {} ({})", c.a, c.b, format_trimmed(c.threshold, 6), c.metric);
    case ClaimKind::AtMost: return fmt::format("{} ≤ {} ({})", c.a, format_trimmed(c.threshold, 6), c.metric);
    case ClaimKind::AtLeast: return fmt::format("{} ≥ {} ({})", c.a, format_trimmed(c.threshold, 6), c.metric);
  }
  return claim_kind_name(c.kind);
}

namespace {

// Why a row cannot give our value of the metric, or "" when it can.
std::string missing_reason(const RowResult& r, const std::string& metric) {
  switch (r.state) {
    case RowState::NotRun: return fmt::format("row '{}' has no record", r.row->display);
    case RowState::Failed: return fmt::format("row '{}' failed: {}", r.row->display, r.record->error_type);
    case RowState::Ok: break;
  }
  if (!r.metric(metric)) return fmt::format("row '{}' has no '{}'", r.row->display, metric);
  if (std::isnan(*r.metric(metric))) return fmt::format("row '{}': '{}' is NaN", r.row->display, metric);
  return "";
}

}  // namespace

std::string claim_line(const ClaimResult& r) {
  std::string line =
      fmt::format("{} {} — {}", claim_status_symbol(r.ours.status), r.description, r.ours.detail);
  if (r.paper) line += fmt::format(" · {} {}", r.paper->detail, claim_status_symbol(r.paper->status));
  return line;
}

std::vector<ClaimResult> check_claims(const TableSpec& table, const std::vector<RowResult>& rows) {
  std::vector<ClaimResult> out;
  for (const auto& c : table.claims) {
    REPRO_ASSERT(c.a_row < rows.size() && c.b_row < rows.size() && c.ref_row < rows.size(),
                 "claim row index out of range");
    ClaimResult res;
    res.claim = c;
    Better dir = table.metric_better(c.metric);
    res.description = c.text.empty() ? describe_claim(c, dir) : c.text;
    int digits = metric_precision(table, c.metric);

    std::vector<const RowResult*> involved = {&rows[c.a_row], &rows[c.b_row]};
    if (c.kind == ClaimKind::GapClosed) involved.push_back(&rows[c.ref_row]);
    const double nan = std::numeric_limits<double>::quiet_NaN();

    std::string why;
    for (const RowResult* r : involved)
      if (why.empty()) why = missing_reason(*r, c.metric);
    if (!why.empty()) {
      res.ours = not_run("ours", why);
    } else {
      double ref = c.kind == ClaimKind::GapClosed ? *rows[c.ref_row].metric(c.metric) : nan;
      res.ours = evaluate_claim(c, dir, *rows[c.a_row].metric(c.metric), *rows[c.b_row].metric(c.metric), ref,
                                digits, "ours");
    }

    bool paper_complete = true;
    for (const RowResult* r : involved) paper_complete = paper_complete && r->paper(c.metric).has_value();
    if (paper_complete) {
      double ref = c.kind == ClaimKind::GapClosed ? *rows[c.ref_row].paper(c.metric) : nan;
      res.paper = evaluate_claim(c, dir, *rows[c.a_row].paper(c.metric), *rows[c.b_row].paper(c.metric), ref,
                                 digits, "paper");
    }
    out.push_back(std::move(res));
  }
  return out;
}

}  // namespace repro::report
