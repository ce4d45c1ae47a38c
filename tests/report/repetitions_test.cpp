// Reports of repeated metrics: mean ± sample std in the tables, mean/std/n columns in the CSV, and
// claims on the means.

#include <string>
#include <vector>

#include "report/csv.h"
#include "report/latex.h"
#include "report/markdown.h"
#include "report/number_format.h"
#include "report/table_report.h"
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
title = "Repeated"
suite = "report_test"
metrics = ["ppl", "bits"]

[[rows]]
label = "Seeds"
paper = { ppl = 16.0 }

[[rows]]
label = "Once"
compressor = { method = "fakeq", bits = 3 }
paper = { ppl = 18.0 }

[[rows]]
label = "OOM"
compressor = { method = "fakeq", bits = 2 }

[[claims]]
kind = "better"
metric = "ppl"
a = "Seeds"
b = "Once"
)";

std::vector<Record> records(const TableSpec& t) {
  Record seeds = ok_record(t.rows[0], {{"bits", 16}});
  // Mean 17.0, sample std 11.27: the first repetition alone (30) would lose the claim.
  seeds.set_repeated("ppl", {30.0, 10.0, 11.0});
  Record once = ok_record(t.rows[1], {{"ppl", 20.0}, {"bits", 3.14}});
  Record oom = error_record(t.rows[2], "DeviceOutOfMemory", "CUDA out of memory. Tried to allocate 2.00 GiB");
  oom.error_hint = "lower calib_batch";
  return {seeds, once, oom};
}

}  // namespace

TEST_CASE("format_mean_std aligns the std to the mean's last decimal", "[report][format]") {
  auto ms = format_mean_std(31.7234, 0.4312, 4);
  CHECK(ms.mean == "31.72");
  CHECK(ms.stddev == "0.43");
  ms = format_mean_std(12345.6, 210.4, 3);
  CHECK(ms.mean == "12346");
  CHECK(ms.stddev == "210");
  ms = format_mean_std(0.0, 0.0123, 3);
  CHECK(ms.stddev == "0.012");
  CHECK(format_mean_std(1.0, std::nan(""), 3).stddev == "nan");
}

TEST_CASE("markdown shows mean ± std for a repeated metric and says which std", "[report][markdown]") {
  TableSpec t = make_table(kToml);
  TableReport rep = build_table_report(t, records(t), 0);
  REQUIRE(rep.repetition_counts() == std::vector<size_t>{3});
  std::string md = render_markdown(rep);
  INFO(md);
  CHECK(md.find("| Seeds  |              17.0 ± 11.3 |") != std::string::npos);
  CHECK(md.find("| Once   |                     20.0 |") != std::string::npos);
  CHECK(md.find("mean ± std: over n = 3 repetitions") != std::string::npos);
  CHECK(md.find("sample standard deviation (n − 1 denominator)") != std::string::npos);
  // Claims compare the means (17.0 < 20.0), not the first repetition (30).
  CHECK(md.find("✓ Seeds better than Once (ppl, lower is better) — ours: 17.0 vs 20.0") != std::string::npos);
  REQUIRE(rep.claims.size() == 1);
  CHECK(rep.claims[0].ours.status == ClaimStatus::Pass);
  CHECK(rep.claims[0].ours.value == Approx(17.0));
  // The Δ column uses the mean as well: 17.0 - 16.0.
  CHECK(md.find("17.0 ± 11.3 |  16.0 | +1.00 |") != std::string::npos);
  // A failure shows its hint.
  CHECK(md.find("- **OOM**: DeviceOutOfMemory: CUDA out of memory. Tried to allocate 2.00 GiB (hint: lower calib_batch)") !=
        std::string::npos);
}

TEST_CASE("a table without repetitions has no mean ± std note", "[report][markdown]") {
  TableSpec t = make_table(kToml);
  auto recs = records(t);
  recs[0] = ok_record(t.rows[0], {{"ppl", 17.0}, {"bits", 16}});
  TableReport rep = build_table_report(t, recs, 0);
  CHECK(rep.repetition_counts().empty());
  CHECK(render_markdown(rep).find("±") == std::string::npos);
  CHECK(render_csv(rep).find("ppl_std") == std::string::npos);
}

TEST_CASE("latex typesets mean \\pm std in math mode", "[report][latex]") {
  TableSpec t = make_table(kToml);
  std::string tex = render_latex(build_table_report(t, records(t), 0));
  INFO(tex);
  CHECK(tex.find("Seeds & $17.0 \\pm 11.3$ &") != std::string::npos);
  CHECK(tex.find("±") == std::string::npos);  // no raw UTF-8 plus-minus for pdflatex to choke on
  CHECK(tex.find("mean $\\pm$ sample standard deviation over $n = 3$ repetitions") != std::string::npos);
}

TEST_CASE("csv gives mean, std and n in separate columns", "[report][csv]") {
  TableSpec t = make_table(kToml);
  std::string csv = render_csv(build_table_report(t, records(t), 0));
  INFO(csv);
  CHECK(csv.rfind("row,label,spec,status,ppl,ppl_std,ppl_n,ppl_paper,ppl_diff,bits,bits_paper,bits_diff,error\n", 0) ==
        0);
  const double sd = Repetitions{{30.0, 10.0, 11.0}}.stddev();
  CHECK(csv.find("0,Seeds,dense | model=zoo:tiny,ok,17," + format_exact(sd) + ",3,16,1,16,,,\n") != std::string::npos);
  CHECK(csv.find(",ok,20,,1,18,2,3.14,,,\n") != std::string::npos);
  CHECK(csv.find(",error,,,,,,,,,DeviceOutOfMemory: CUDA out of memory. Tried to allocate 2.00 GiB\n") != std::string::npos);
}
