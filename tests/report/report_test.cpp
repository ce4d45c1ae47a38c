// write_report end to end: files in place, Markdown embedding the plots, claim results returned.

#include <cstdlib>
#include <filesystem>
#include <optional>

#include "core/error.h"
#include "report/csv.h"
#include "report/gnuplot.h"
#include "report/markdown.h"
#include "report/report.h"
#include "tests/catch.h"
#include "tests/report/report_fixtures.h"
#include "tests/test_util.h"

using namespace repro;
using namespace repro::report;
using repro::report_test::make_table;
using repro::report_test::ok_record;
namespace fs = std::filesystem;

namespace {

const char* kToml = R"(
[table]
title = "End to end"
suite = "report_test"
metrics = ["ppl", "bits"]

[[rows]]
label = "Dense"
paper = { ppl = 6.0 }

[[rows]]
label = "Q"
compressor = { method = "fakeq", bits = [2, 4] }

[[claims]]
kind = "better"
metric = "ppl"
a = "Q [bits=4]"
b = "Q [bits=2]"

[[plots]]
name = "pareto"
x = "bits"
y = "ppl"
)";

std::vector<Record> records(const TableSpec& t) {
  return {ok_record(t.rows[0], {{"ppl", 20.0}, {"bits", 16}}), ok_record(t.rows[1], {{"ppl", 60.0}, {"bits", 2}}),
          ok_record(t.rows[2], {{"ppl", 30.0}, {"bits", 4}})};
}

// Sets an environment variable for the scope of a test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("write_report writes the tables without plots", "[report]") {
  TableSpec t = make_table(kToml);
  test::TempDir dir("report-e2e");
  fs::path out = dir / "results" / "demo";
  ReportFiles files = write_report(t, records(t), out, 0, /*plots=*/false);
  CHECK(files.markdown == out / "t.md");
  CHECK(files.latex == out / "t.tex");
  CHECK(files.csv == out / "t.csv");
  CHECK(files.plots.empty());
  CHECK(files.paths == std::vector<fs::path>{out / "t.md", out / "t.tex", out / "t.csv"});
  TableReport rep = build_table_report(t, records(t), 0);
  CHECK(test::read_text(files.markdown) == render_markdown(rep));
  CHECK(test::read_text(files.csv) == render_csv(rep));
  CHECK(test::read_text(files.latex).find("\\toprule") != std::string::npos);
  REQUIRE(files.claims.size() == 1);
  CHECK(files.claims[0].ours.status == ClaimStatus::Pass);
  CHECK_FALSE(fs::exists(out / "t-pareto.svg"));
}

TEST_CASE("write_report renders the plots and embeds them", "[report][gnuplot]") {
  if (!find_gnuplot()) {
    WARN("gnuplot not found: rendering not tested");
    return;
  }
  TableSpec t = make_table(kToml);
  test::TempDir dir("report-e2e");
  ReportFiles files = write_report(t, records(t), dir.path(), 0);
  REQUIRE(files.plots.size() == 5);
  CHECK(files.paths.size() == 8);
  for (const auto& p : files.plots) {
    INFO(p.string());
    CHECK(fs::file_size(p) > 0);
  }
  CHECK(test::read_text(files.markdown).find("### Plots\n\n![t-pareto.svg](t-pareto.svg)\n") != std::string::npos);
}

TEST_CASE("write_report without gnuplot fails before writing the tables", "[report][gnuplot]") {
  TableSpec t = make_table(kToml);
  test::TempDir dir("report-e2e");
  ScopedEnv env("REPRO_GNUPLOT", (dir / "no-such-gnuplot").c_str());
  CHECK_THROWS_AS(write_report(t, records(t), dir.path(), 0), NotSupported);
  CHECK_FALSE(fs::exists(dir / "t.md"));
  CHECK_NOTHROW(write_report(t, records(t), dir.path(), 0, false));
  CHECK(fs::exists(dir / "t.md"));
}
