// Matching records to table rows.

#include "report/row_match.h"
#include "tests/catch.h"
#include "tests/report/report_fixtures.h"

using namespace repro;
using namespace repro::report;
using repro::report_test::error_record;
using repro::report_test::make_table;
using repro::report_test::ok_record;

namespace {

const char* kToml = R"(
[table]
title = "Match"
suite = "report_test"

[[rows]]
label = "Q"
compressor = { method = "fakeq", bits = [2, 3] }
)";

}  // namespace

TEST_CASE("the newest ok record of a row wins", "[report][match]") {
  TableSpec t = make_table(kToml);
  REQUIRE(t.rows.size() == 2);
  const RowSpec& row = t.rows[0];
  std::vector<Record> recs = {
      ok_record(row, {{"ppl", 1.0}}, "2026-01-02T00:00:00Z"),
      ok_record(row, {{"ppl", 3.0}}, "2026-01-03T00:00:00Z"),  // newest ok
      error_record(row, "NumericalError", "late failure", "2026-01-09T00:00:00Z"),  // newer, but an error
      ok_record(row, {{"ppl", 2.0}}, "2026-01-01T00:00:00Z"),
  };
  auto res = match_records(t, recs, 0);
  REQUIRE(res.size() == 2);
  CHECK(res[0].row == &t.rows[0]);
  CHECK(res[0].state == RowState::Ok);
  REQUIRE(res[0].metric("ppl"));
  CHECK(*res[0].metric("ppl") == 3.0);
  CHECK_FALSE(res[0].metric("acc"));
  CHECK(res[1].state == RowState::NotRun);
  CHECK_FALSE(res[1].record);
  CHECK_FALSE(res[1].metric("ppl"));
}

TEST_CASE("a row with only error records shows the newest failure", "[report][match]") {
  TableSpec t = make_table(kToml);
  std::vector<Record> recs = {
      error_record(t.rows[1], "NumericalError", "new", "2026-01-05T00:00:00Z"),
      error_record(t.rows[1], "ModelError", "old", "2026-01-01T00:00:00Z"),
  };
  auto res = match_records(t, recs, 0);
  CHECK(res[0].state == RowState::NotRun);
  REQUIRE(res[1].state == RowState::Failed);
  CHECK(res[1].record->error_message == "new");
  CHECK_FALSE(res[1].metric("ppl"));
  CHECK(row_state_name(res[1].state) == "error");
}

TEST_CASE("records of another seed, scale or row are ignored", "[report][match]") {
  TableSpec t = make_table(kToml);
  Record other_seed = ok_record(t.rows[0], {{"ppl", 1.0}});
  other_seed.seed = 7;
  Record other_scale = ok_record(t.rows[0], {{"ppl", 2.0}});
  other_scale.scale = "paper";
  Record other_row = ok_record(t.rows[0], {{"ppl", 3.0}});
  other_row.row_spec = "fakeq(bits=2,group=64) | model=zoo:tiny";  // a config changed since
  auto res = match_records(t, {other_seed, other_scale, other_row}, 0);
  CHECK(res[0].state == RowState::NotRun);
  CHECK(res[1].state == RowState::NotRun);

  auto seed7 = match_records(t, {other_seed, other_scale, other_row}, 7);
  REQUIRE(seed7[0].state == RowState::Ok);
  CHECK(*seed7[0].metric("ppl") == 1.0);
}

TEST_CASE("equal finish times: the later record in the input wins", "[report][match]") {
  TableSpec t = make_table(kToml);
  auto res = match_records(t, {ok_record(t.rows[0], {{"ppl", 1.0}}), ok_record(t.rows[0], {{"ppl", 2.0}})}, 0);
  CHECK(*res[0].metric("ppl") == 2.0);
}
