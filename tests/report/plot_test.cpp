// Plot scripts and gnuplot rendering. The [gnuplot] tests run by default (gnuplot is installed
// here and in CI); without gnuplot they are skipped with a warning.

#include <filesystem>

#include "core/error.h"
#include "report/gnuplot.h"
#include "report/plot.h"
#include "report/plot_script.h"
#include "report/table_report.h"
#include "tests/catch.h"
#include "tests/report/report_fixtures.h"
#include "tests/test_util.h"

using namespace repro;
using namespace repro::report;
using repro::report_test::make_table;
using repro::report_test::ok_record;
namespace fs = std::filesystem;

namespace {

const char* kPlotToml = R"(
[table]
title = "Bits vs perplexity"
suite = "report_test"
paper_model = "Llama-3-8B"

[[rows]]
label = "Dense"
paper = { ppl = 6.0, bits = 16 }

[[rows]]
label = "Q"
compressor = { method = "fakeq", bits = [2, 3, 4] }
paper = { ppl = [12.0, 8.0, 7.0], bits = [2, 3, 4] }

[[plots]]
name = "pareto"
x = "bits"
y = "ppl"
log_y = true
)";

std::vector<Record> plot_records(const TableSpec& t) {
  return {ok_record(t.rows[0], {{"ppl", 20.0}, {"bits", 16}}), ok_record(t.rows[1], {{"ppl", 60.0}, {"bits", 2.1}}),
          ok_record(t.rows[2], {{"ppl", 30.0}, {"bits", 3.1}}), ok_record(t.rows[3], {{"ppl", 35.0}, {"bits", 4.1}})};
}

bool have_gnuplot() {
  if (find_gnuplot()) return true;
  WARN("gnuplot not found: rendering not tested");
  return false;
}

void check_non_empty(const fs::path& p) {
  INFO(p.string());
  REQUIRE(fs::exists(p));
  CHECK(fs::file_size(p) > 0);
}

}  // namespace

TEST_CASE("table plot points: ours from ok rows, the paper's from the config", "[report][plot]") {
  TableSpec t = make_table(kPlotToml);
  TableReport rep = build_table_report(t, plot_records(t), 0);
  auto pts = table_plot_points(rep, t.plots[0]);
  REQUIRE(pts.size() == 8);
  CHECK(pts[0].x == 16);
  CHECK(pts[0].y == 20);
  CHECK(pts[0].label == "dense");
  CHECK_FALSE(pts[0].paper);
  CHECK(pts[2].label == "fakeq(bits=3,group=128)");
  CHECK(pts[4].paper);
  CHECK(pts[4].y == 6.0);
  CHECK(pts[6].label == "fakeq(bits=3,group=128)");  // paper points share the row's legend
}

TEST_CASE("plot script: fronts, log axes, legends, data blocks", "[report][plot]") {
  PlotRequest req;
  req.title = "It's a plot";
  req.x = "bits";
  req.y = "ppl";
  req.log_y = true;
  req.paper_legend = "paper (Llama-3-8B)";
  std::vector<Point> pts = {{4, 10, "q(bits=4)", false},  {2, 30, "q(bits=2)", false}, {3, 40, "q(bits=3)", false},
                            {3, -1, "q(bad)", false},      {3, 8, "q(bits=3)", true},   {5, 6, "q(bits=5)", true}};
  PlotText text = plot_text(req, pts, "t-pareto");
  INFO(text.script);
  CHECK(text.plotted == 5);
  CHECK(text.dropped == 1);  // not positive on a log axis
  CHECK(text.script.find("set logscale y\n") != std::string::npos);
  CHECK(text.script.find("set logscale x") == std::string::npos);
  // y spans 6..40, less than two decades: fixed to the data with labelled geometric tics.
  CHECK(text.script.find("set autoscale yfix\nset ytics (6, 8.8, 13, 19, 27, 40)\n") != std::string::npos);
  CHECK(text.script.find("set offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05") != std::string::npos);
  {
    PlotRequest wide = req;
    std::vector<Point> spread = {{1, 1, "a", false}, {2, 1000, "b", false}};
    PlotText w = plot_text(wide, spread, "w");
    CHECK(w.script.find("set ytics") == std::string::npos);  // whole decades are labelled by gnuplot
    CHECK(w.script.find("set offsets graph 0.05, graph 0.05, 0, 0") != std::string::npos);
  }
  CHECK(text.script.find("set title 'It''s a plot'") != std::string::npos);
  CHECK(text.script.find("set xlabel 'bits (lower is better)'") != std::string::npos);
  CHECK(text.script.find("title '1  q(bits=4)'") != std::string::npos);
  CHECK(text.script.find("title '4  q(bits=5) (paper only)'") != std::string::npos);
  CHECK(text.script.find("title 'paper (Llama-3-8B)'") != std::string::npos);
  CHECK(text.script.find("set output 't-pareto.svg'") != std::string::npos);
  CHECK(text.script.find("set output 't-pareto.pdf'") != std::string::npos);
  // Blocks: our points; our front (2,30) then (4,10); the paper's points; the paper's front.
  CHECK(text.data ==
        "# our points: x\ty\tnumber\tlabel\n4\t10\t1\tq(bits=4)\n2\t30\t2\tq(bits=2)\n3\t40\t3\tq(bits=3)\n"
        "\n\n# our Pareto front, by x: x\ty\tnumber\tlabel\n2\t30\t2\tq(bits=2)\n4\t10\t1\tq(bits=4)\n"
        "\n\n# the paper's points: x\ty\tnumber\tlabel\n3\t8\t3\tq(bits=3)\n5\t6\t4\tq(bits=5)\n"
        "\n\n# the paper's Pareto front, by x: x\ty\tnumber\tlabel\n3\t8\t3\tq(bits=3)\n5\t6\t4\tq(bits=5)\n");
}

TEST_CASE("table plots are rendered to svg, png and pdf", "[report][plot][gnuplot]") {
  if (!have_gnuplot()) return;
  TableSpec t = make_table(kPlotToml);
  TableReport rep = build_table_report(t, plot_records(t), 0);
  test::TempDir dir("report-plot");
  TablePlots plots = write_table_plots(rep, dir.path());
  REQUIRE(plots.files.size() == 1);
  CHECK(plots.skipped.empty());
  const PlotFiles& f = plots.files[0];
  CHECK(f.svg == dir.path() / "t-pareto.svg");
  for (const auto& p : f.all()) check_non_empty(p);
  std::string svg = test::read_text(f.svg);
  CHECK(svg.find("fakeq(bits=3,group=128)") != std::string::npos);
  CHECK(svg.find("Pareto front (ours)") != std::string::npos);
  CHECK(test::read_text(f.png).substr(1, 3) == "PNG");
  CHECK(test::read_text(f.pdf).substr(0, 5) == "%PDF-");
}

TEST_CASE("a plot with no point is skipped", "[report][plot]") {
  TableSpec t = make_table(kPlotToml);
  t.rows[0].paper.clear();
  t.rows[1].paper.clear();
  t.rows[2].paper.clear();
  t.rows[3].paper.clear();
  TableReport rep = build_table_report(t, {}, 0);
  test::TempDir dir("report-plot");
  TablePlots plots = write_table_plots(rep, dir.path());
  CHECK(plots.files.empty());
  REQUIRE(plots.skipped.size() == 1);
  CHECK(plots.skipped[0].find("pareto") != std::string::npos);
}

TEST_CASE("ad hoc plots from records", "[report][plot][gnuplot]") {
  if (!have_gnuplot()) return;
  TableSpec t = make_table(kPlotToml);
  test::TempDir dir("report-plot");
  auto files = write_adhoc_plot(plot_records(t), "bits", "ppl", Better::Lower, Better::Lower, true, false,
                                dir / "adhoc");
  REQUIRE(files.size() == 5);
  for (const auto& p : files) check_non_empty(p);
  CHECK(files[0] == dir / "adhoc.gp");
  CHECK(test::read_text(files[0]).find("set logscale x") != std::string::npos);
  CHECK(test::read_text(files[2]).find("ppl vs bits") != std::string::npos);
  CHECK_THROWS_AS(write_adhoc_plot(plot_records(t), "bits", "acc", Better::Lower, Better::Higher, false, false,
                                   dir / "none"),
                  DataError);
}

TEST_CASE("gnuplot missing or failing is a clear error naming the script", "[report][plot][gnuplot]") {
  test::TempDir dir("report-plot");
  fs::path script = dir / "bad.gp";
  test::write_text(script, "this is not gnuplot\n");
  try {
    run_gnuplot(script, dir / "no-such-gnuplot");
    FAIL("expected NotSupported");
  } catch (const NotSupported& e) {
    CHECK(std::string(e.what()).find(script.string()) != std::string::npos);
  }
  if (!have_gnuplot()) return;
  try {
    run_gnuplot(script);
    FAIL("expected IoError");
  } catch (const IoError& e) {
    CHECK(std::string(e.what()).find(script.string()) != std::string::npos);
  }
}
