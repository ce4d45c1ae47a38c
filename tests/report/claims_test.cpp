// Claim checks: every kind, on our numbers and on the paper's.

#include <cmath>

#include "report/claims.h"
#include "report/table_report.h"
#include "tests/catch.h"
#include "tests/report/report_fixtures.h"

using namespace repro;
using namespace repro::report;
using repro::report_test::error_record;
using repro::report_test::make_table;
using repro::report_test::ok_record;

namespace {

const double kNan = std::nan("");

ClaimSpec claim(ClaimKind kind, double threshold = 0.0) {
  ClaimSpec c;
  c.kind = kind;
  // Move-assigned strings: GCC 12 at -O3 warns (falsely) on assigning these literals.
  c.metric = std::string("ppl");
  c.a = std::string("A");
  c.b = std::string("B");
  c.ref = std::string("Dense");
  c.threshold = threshold;
  return c;
}

ClaimStatus eval(const ClaimSpec& c, Better dir, double a, double b, double ref = kNan) {
  return evaluate_claim(c, dir, a, b, ref, 3, "ours").status;
}

}  // namespace

TEST_CASE("less and greater, with a relative margin", "[report][claims]") {
  auto less = claim(ClaimKind::Less);
  CHECK(eval(less, Better::None, 1.0, 2.0) == ClaimStatus::Pass);
  CHECK(eval(less, Better::None, 2.0, 2.0) == ClaimStatus::Fail);
  CHECK(eval(less, Better::None, 3.0, 2.0) == ClaimStatus::Fail);
  CHECK(eval(less, Better::None, kNan, 2.0) == ClaimStatus::NotRun);

  auto margin = claim(ClaimKind::Less, 0.1);  // a < b - 0.1 |b|
  CHECK(eval(margin, Better::None, 8.9, 10.0) == ClaimStatus::Pass);
  CHECK(eval(margin, Better::None, 9.5, 10.0) == ClaimStatus::Fail);
  CHECK(eval(margin, Better::None, -11.5, -10.0) == ClaimStatus::Pass);  // |b| for negative values
  CHECK(eval(margin, Better::None, -10.5, -10.0) == ClaimStatus::Fail);
  auto detail = evaluate_claim(margin, Better::None, 8.9, 10.0, kNan, 3, "ours").detail;
  CHECK(detail == "ours: 8.90 vs 10.0 (needs < 9.00)");

  auto greater = claim(ClaimKind::Greater, 0.1);  // a > b + 0.1 |b|
  CHECK(eval(greater, Better::None, 11.5, 10.0) == ClaimStatus::Pass);
  CHECK(eval(greater, Better::None, 10.5, 10.0) == ClaimStatus::Fail);
  CHECK(eval(greater, Better::None, 10.0, kNan) == ClaimStatus::NotRun);
}

TEST_CASE("better follows the metric's direction", "[report][claims]") {
  auto better = claim(ClaimKind::Better);
  CHECK(eval(better, Better::Lower, 31.7, 39.0) == ClaimStatus::Pass);
  CHECK(eval(better, Better::Lower, 39.0, 31.7) == ClaimStatus::Fail);
  CHECK(eval(better, Better::Higher, 31.7, 39.0) == ClaimStatus::Fail);
  CHECK(eval(better, Better::Higher, 39.0, 31.7) == ClaimStatus::Pass);
  CHECK(eval(better, Better::Lower, 31.7, kNan) == ClaimStatus::NotRun);
  CHECK(eval(better, Better::None, 1.0, 2.0) == ClaimStatus::NotRun);
  CHECK(evaluate_claim(better, Better::Lower, 31.7, 39.0, kNan, 3, "ours").detail == "ours: 31.7 vs 39.0");
}

TEST_CASE("gap_closed in both directions", "[report][claims]") {
  auto gap = claim(ClaimKind::GapClosed, 0.3);
  SECTION("lower is better: (b - a) / (b - ref)") {
    auto o = evaluate_claim(gap, Better::Lower, 31.7, 39.0, 21.4, 3, "ours");
    CHECK(o.status == ClaimStatus::Pass);
    CHECK(o.value == Approx((39.0 - 31.7) / (39.0 - 21.4)));
    CHECK(o.detail == "ours: 41.5% of the gap (31.7 vs 39.0, ref 21.4)");
    CHECK(eval(gap, Better::Lower, 36.0, 39.0, 21.4) == ClaimStatus::Fail);  // 17%
    CHECK(eval(gap, Better::Lower, 45.0, 39.0, 21.4) == ClaimStatus::Fail);  // worse than b
  }
  SECTION("higher is better: (a - b) / (ref - b)") {
    auto o = evaluate_claim(gap, Better::Higher, 0.70, 0.60, 0.80, 3, "ours");
    CHECK(o.status == ClaimStatus::Pass);
    CHECK(o.value == Approx(0.5));
    CHECK(eval(gap, Better::Higher, 0.62, 0.60, 0.80) == ClaimStatus::Fail);  // 10%
    CHECK(eval(gap, Better::Higher, 0.56, 0.60, 0.80) == ClaimStatus::Fail);  // worse than b: -20%
    CHECK(evaluate_claim(gap, Better::Higher, 0.56, 0.60, 0.80, 3, "ours").value == Approx(-0.2));
    // A beyond the reference closes more than the whole gap.
    CHECK(evaluate_claim(gap, Better::Higher, 0.90, 0.60, 0.80, 3, "ours").value == Approx(1.5));
  }
  SECTION("not evaluable") {
    auto o = evaluate_claim(gap, Better::Lower, 30.0, 39.0, 39.0, 3, "ours");
    CHECK(o.status == ClaimStatus::NotRun);
    CHECK(o.detail.find("not evaluable") != std::string::npos);
    CHECK(eval(gap, Better::Lower, 30.0, 39.0, kNan) == ClaimStatus::NotRun);
  }
}

TEST_CASE("ratio_below and ratio_above", "[report][claims]") {
  auto below = claim(ClaimKind::RatioBelow, 0.5);
  CHECK(eval(below, Better::Lower, 1.0, 2.0) == ClaimStatus::Pass);  // 0.5 <= 0.5
  CHECK(eval(below, Better::Lower, 1.1, 2.0) == ClaimStatus::Fail);
  CHECK(eval(below, Better::Lower, 1.0, 0.0) == ClaimStatus::NotRun);
  auto above = claim(ClaimKind::RatioAbove, 2.0);
  auto o = evaluate_claim(above, Better::Lower, 5.42, 2.0, kNan, 3, "ours");
  CHECK(o.status == ClaimStatus::Pass);
  CHECK(o.detail == "ours: ratio 2.71 (5.42 / 2.00)");
  CHECK(eval(above, Better::Lower, 3.9, 2.0) == ClaimStatus::Fail);
  CHECK(eval(above, Better::Lower, kNan, 2.0) == ClaimStatus::NotRun);
}

TEST_CASE("check_claims reads rows and the paper's numbers", "[report][claims]") {
  TableSpec t = make_table(R"(
[table]
title = "Claims"
suite = "report_test"
metrics = ["ppl", "acc"]

[[rows]]
label = "Dense"
paper = { ppl = 6.0, acc = 0.9 }

[[rows]]
label = "A"
compressor = { method = "fakeq", bits = 3 }
paper = { ppl = 8.0, acc = 0.8 }

[[rows]]
label = "B"
compressor = { method = "fakeq", bits = 2 }
paper = { ppl = 10.0 }

[[rows]]
label = "C"
compressor = { method = "fakeq", bits = 1 }

[[claims]]
kind = "gap_closed"
metric = "ppl"
a = "A"
b = "B"
ref = "Dense"
threshold = 0.3

[[claims]]
kind = "better"
metric = "acc"
a = "A"
b = "B"

[[claims]]
kind = "better"
metric = "ppl"
a = "C"
b = "A"

[[claims]]
kind = "less"
metric = "ppl"
a = "A"
b = "B"
)");
  std::vector<Record> recs = {
      ok_record(t.rows[0], {{"ppl", 20.0}, {"acc", 0.7}}),
      ok_record(t.rows[1], {{"ppl", 30.0}, {"acc", 0.6}}),
      ok_record(t.rows[2], {{"ppl", kNan}}),
      error_record(t.rows[3], "NumericalError", "diverged"),
  };
  TableReport rep = build_table_report(t, recs, 0);
  REQUIRE(rep.claims.size() == 4);

  // gap_closed: ours needs B's ppl, which is NaN; the paper closes (10-8)/(10-6) = 50%.
  CHECK(rep.claims[0].ours.status == ClaimStatus::NotRun);
  CHECK(rep.claims[0].ours.detail == "ours: not run (row 'B': 'ppl' is NaN)");
  REQUIRE(rep.claims[0].paper);
  CHECK(rep.claims[0].paper->status == ClaimStatus::Pass);
  CHECK(rep.claims[0].paper->value == Approx(0.5));
  CHECK(rep.claims[0].description == "A closes ≥ 30% of the gap from B to Dense (ppl)");

  // better on acc: B has no acc record value and no paper acc.
  CHECK(rep.claims[1].ours.status == ClaimStatus::NotRun);
  CHECK(rep.claims[1].ours.detail == "ours: not run (row 'B' has no 'acc')");
  CHECK_FALSE(rep.claims[1].paper);

  // C failed.
  CHECK(rep.claims[2].ours.status == ClaimStatus::NotRun);
  CHECK(rep.claims[2].ours.detail == "ours: not run (row 'C' failed: NumericalError)");
  CHECK_FALSE(rep.claims[2].paper);

  // less on ppl, B NaN -> not run; paper 8 < 10 -> pass.
  CHECK(rep.claims[3].ours.status == ClaimStatus::NotRun);
  REQUIRE(rep.claims[3].paper);
  CHECK(rep.claims[3].paper->status == ClaimStatus::Pass);
  CHECK(rep.claims[3].paper->detail == "paper: 8.00 vs 10.0");
  CHECK(claim_line(rep.claims[3]) == "– A < B (ppl) — ours: not run (row 'B': 'ppl' is NaN) · paper: 8.00 vs 10.0 ✓");

  // Now with B's numbers: ours gap = (40 - 30) / (40 - 20) = 50% -> pass; A better than B on acc.
  recs[2] = ok_record(t.rows[2], {{"ppl", 40.0}, {"acc", 0.65}});
  TableReport rep2 = build_table_report(t, recs, 0);
  CHECK(rep2.claims[0].ours.status == ClaimStatus::Pass);
  CHECK(rep2.claims[0].ours.value == Approx(0.5));
  CHECK(rep2.claims[1].ours.status == ClaimStatus::Fail);  // acc 0.6 < 0.65, higher is better
  CHECK(rep2.claims[3].ours.status == ClaimStatus::Pass);
}

TEST_CASE("claim descriptions when the config gives no text", "[report][claims]") {
  CHECK(describe_claim(claim(ClaimKind::Less), Better::Lower) == "A < B (ppl)");
  CHECK(describe_claim(claim(ClaimKind::Greater, 0.1), Better::Lower) == "A > B by ≥ 10% (ppl)");
  CHECK(describe_claim(claim(ClaimKind::Better), Better::Higher) == "A better than B (ppl, higher is better)");
  CHECK(describe_claim(claim(ClaimKind::RatioAbove, 2.5), Better::Lower) == "A / B ≥ 2.5 (ppl)");
}

TEST_CASE("at_most and at_least bound one row's metric", "[report][claims]") {
  auto most = claim(ClaimKind::AtMost, 5.0);
  CHECK(eval(most, Better::Lower, 5.0, 5.0) == ClaimStatus::Pass);
  CHECK(eval(most, Better::Lower, 5.1, 5.1) == ClaimStatus::Fail);
  CHECK(eval(most, Better::Lower, kNan, kNan) == ClaimStatus::NotRun);
  auto o = evaluate_claim(most, Better::Lower, 3.2, 3.2, kNan, 3, "ours");
  CHECK(o.status == ClaimStatus::Pass);
  CHECK(o.value == 3.2);
  CHECK(o.detail == "ours: 3.20 (needs ≤ 5)");
  auto least = claim(ClaimKind::AtLeast, 100.0);
  CHECK(eval(least, Better::Higher, 100.0, 100.0) == ClaimStatus::Pass);
  CHECK(eval(least, Better::Higher, 99.9, 99.9) == ClaimStatus::Fail);
  CHECK(describe_claim(most, Better::Lower) == "A ≤ 5 (ppl)");
  CHECK(describe_claim(least, Better::Higher) == "A ≥ 100 (ppl)");
}

TEST_CASE("at_most / at_least through a table: one row, no b, a threshold", "[report][claims]") {
  TableSpec t = make_table(R"(
[table]
title = "Bounds"
suite = "report_test"

[[rows]]
label = "A"
compressor = { method = "fakeq", bits = 3 }
paper = { ppl = 8.0 }

[[claims]]
kind = "at_most"
metric = "ppl"
a = "A"
threshold = 10
text = "A stays under 10"

[[claims]]
kind = "at_least"
metric = "acc"
a = "A"
threshold = 0.5
)");
  REQUIRE(t.claims.size() == 2);
  CHECK(t.claims[0].kind == ClaimKind::AtMost);
  CHECK(t.claims[0].b_row == t.claims[0].a_row);
  TableReport rep = build_table_report(t, {ok_record(t.rows[0], {{"ppl", 12.0}, {"acc", 0.7}})}, 0);
  REQUIRE(rep.claims.size() == 2);
  CHECK(rep.claims[0].ours.status == ClaimStatus::Fail);
  REQUIRE(rep.claims[0].paper);
  CHECK(rep.claims[0].paper->status == ClaimStatus::Pass);
  CHECK(claim_line(rep.claims[0]) == "✗ A stays under 10 — ours: 12.0 (needs ≤ 10) · paper: 8.00 (needs ≤ 10) ✓");
  CHECK(rep.claims[1].ours.status == ClaimStatus::Pass);
  CHECK_FALSE(rep.claims[1].paper);
}
