// Plot scripts and gnuplot rendering. The [gnuplot] tests run by default (gnuplot is installed
// here and in CI); without gnuplot they are skipped with a warning.

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"
#include "report/gnuplot.h"
#include "report/plot.h"
#include "report/plot_script.h"
#include "report/plot_style.h"
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

// Q's sweep is not in x order (4, 2, 3 bits): the line must join the points in row order.
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
compressor = { method = "fakeq", bits = [4, 2, 3] }
paper = { ppl = [7.0, 12.0, 8.0], bits = [4, 2, 3] }

[[rows]]
label = "R"
compressor = { method = "fakeq", bits = [2, 3], group = 64 }

[[plots]]
name = "pareto"
x = "bits"
y = "ppl"
log_y = true
reference = ["Dense"]
)";

// Rows: Dense, Q [bits=4], Q [bits=2], Q [bits=3], R [bits=2], R [bits=3].
std::vector<Record> plot_records(const TableSpec& t) {
  return {ok_record(t.rows[0], {{"ppl", 20.0}, {"bits", 16}}),  ok_record(t.rows[1], {{"ppl", 35.0}, {"bits", 4.1}}),
          ok_record(t.rows[2], {{"ppl", 60.0}, {"bits", 2.1}}), ok_record(t.rows[3], {{"ppl", 30.0}, {"bits", 3.1}}),
          ok_record(t.rows[4], {{"ppl", 50.0}, {"bits", 2.2}}), ok_record(t.rows[5], {{"ppl", 40.0}, {"bits", 3.2}})};
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

// The data lines of the .dat block whose comment starts with "# <what>".
std::vector<std::string> block_lines(const std::string& dat, const std::string& what) {
  std::vector<std::string> out;
  auto at = dat.find("# " + what);
  if (at == std::string::npos) return out;
  at = dat.find('\n', at) + 1;
  while (at < dat.size() && dat[at] != '\n') {
    auto end = dat.find('\n', at);
    out.push_back(dat.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

// The `set style line` command of the series labelled `label` ("" when none).
std::string style_line(const std::string& script, const std::string& label) {
  const std::string tail = "  # " + label + "\n";
  for (size_t at = script.find("set style line "); at != std::string::npos;
       at = script.find("set style line ", at + 1)) {
    auto end = script.find('\n', at);
    if (script.compare(end + 1 - tail.size(), tail.size(), tail) == 0)
      return script.substr(at, end + 1 - at - tail.size());
  }
  return "";
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

PlotRequest request_of(const PlotSpec& p) {
  PlotRequest req;
  req.x = p.x;
  req.y = p.y;
  req.log_y = p.log_y;
  return req;
}

}  // namespace

TEST_CASE("table plot data: one series per [[rows]] label, in sweep order; reference rows as lines", "[report][plot]") {
  TableSpec t = make_table(kPlotToml);
  TableReport rep = build_table_report(t, plot_records(t), 0);
  PlotData d = table_plot_data(rep, t.plots[0]);
  REQUIRE(d.series.size() == 2);
  const Series& q = d.series[0];
  CHECK(q.label == "Q");
  CHECK(d.series[1].label == "R");
  CHECK(q.style.colour != d.series[1].style.colour);
  CHECK(q.style.number != d.series[1].style.number);
  REQUIRE(q.points.size() == 6);
  std::vector<Point> ours, paper;
  for (const auto& p : q.points) (p.paper ? paper : ours).push_back(p);
  REQUIRE(ours.size() == 3);
  REQUIRE(paper.size() == 3);
  CHECK(ours[0].x == 4.1);
  CHECK(ours[1].x == 2.1);
  CHECK(ours[2].x == 3.1);
  CHECK(ours[0].label == "Q [bits=4]");
  CHECK(ours[0].tag == "bits=4");
  CHECK(paper[0].y == 7.0);
  CHECK(paper[1].y == 12.0);
  REQUIRE(d.references.size() == 2);
  CHECK(d.references[0].label == "Dense");
  CHECK(d.references[0].y == 20.0);
  CHECK_FALSE(d.references[0].paper);
  CHECK(d.references[1].y == 6.0);
  CHECK(d.references[1].paper);
  for (const auto& s : d.series)
    for (const auto& p : s.points) CHECK(p.label != "Dense");
}

TEST_CASE("plot script: a block and a key entry per series, joined in sweep order, reference as a line",
          "[report][plot]") {
  TableSpec t = make_table(kPlotToml);
  TableReport rep = build_table_report(t, plot_records(t), 0);
  PlotRequest req = request_of(t.plots[0]);
  req.paper_legend = "paper (Llama-3-8B)";
  PlotText text = plot_text(req, table_plot_data(rep, t.plots[0]), "t-pareto");
  INFO(text.script);
  INFO(text.data);
  CHECK(text.plotted == 8);
  // Series grouped by their [[rows]] label, in row order (not sorted by x).
  CHECK(block_lines(text.data, "Q, ours") == std::vector<std::string>{"4.1\t35\tQ [bits=4]\tbits=4",
                                                                      "2.1\t60\tQ [bits=2]\tbits=2",
                                                                      "3.1\t30\tQ [bits=3]\tbits=3"});
  CHECK(block_lines(text.data, "Q, the paper's") ==
        std::vector<std::string>{"4\t7\tQ [bits=4]\tbits=4", "2\t12\tQ [bits=2]\tbits=2", "3\t8\tQ [bits=3]\tbits=3"});
  CHECK(block_lines(text.data, "R, ours").size() == 2);
  CHECK(block_lines(text.data, "our Pareto front") == std::vector<std::string>{"2.1\t60\tQ [bits=2]\tbits=2",
                                                                               "2.2\t50\tR [bits=2]\tbits=2",
                                                                               "3.1\t30\tQ [bits=3]\tbits=3"});
  // One key entry per series, from the short label; its points joined by a line in its style.
  CHECK(count(text.script, "title 'Q'") == 1);
  CHECK(count(text.script, "title 'R'") == 1);
  CHECK(text.script.find("[bits=") == std::string::npos);
  const std::string q_style = style_line(text.script, "Q");
  REQUIRE(!q_style.empty());
  const std::string q_ls =
      q_style.substr(std::string("set style line ").size(),
                     q_style.find(' ', std::string("set style line ").size()) - std::string("set style line ").size());
  CHECK(text.script.find("'t-pareto.dat' index 0 using 1:2 with linespoints ls " + q_ls + " title 'Q'") !=
        std::string::npos);
  // The paper's numbers: the same style with the open marker of its shape.
  const SeriesStyle q = paper_styles(t).at("Q");
  CHECK(q_ls == std::to_string(q.number));
  CHECK(text.script.find("'t-pareto.dat' index 1 using 1:2 with points ls " + q_ls + " pt " + std::to_string(q.hollow) +
                         " notitle") != std::string::npos);
  CHECK(q.hollow != q.point);
  CHECK(style_line(text.script, "R") != q_style);
  CHECK(text.script.find("title 'paper (Llama-3-8B): open markers'") != std::string::npos);
  // Dense is no point: a line at its y (ours, and the paper's since paper points are drawn), labelled.
  CHECK(text.data.find("Dense") == std::string::npos);
  CHECK(text.script.find("set arrow 1 from graph 0, first 20 to graph 1, first 20 nohead") != std::string::npos);
  CHECK(text.script.find("set label 1 'Dense' at graph 0.01, first 20 ") != std::string::npos);
  CHECK(text.script.find("set arrow 2 from graph 0, first 6 to graph 1, first 6 nohead") != std::string::npos);
  CHECK(text.script.find("set label 2 'Dense (paper)'") != std::string::npos);
  // Dense's x (16) does not stretch the x axis; the y range reaches down to its paper line (6).
  CHECK(text.script.find("set xrange") == std::string::npos);
  CHECK(text.script.find("set yrange [5.34751:67.3211]\nset ytics (6, 9.5, 15, 24, 38, 60)\n") != std::string::npos);
}

TEST_CASE("plot script: a reference line outside the points widens the y range, not the x range", "[report][plot]") {
  PlotRequest req;
  req.x = "bits";
  req.y = "ppl";
  req.log_y = true;
  PlotData d;
  d.series.push_back(
      {"Q", SeriesStyle{}, {{2, 60, "Q [bits=2]", false, "bits=2"}, {3, 30, "Q [bits=3]", false, "bits=3"}}});
  d.references.push_back({"Dense", 20, false});
  d.references.push_back({"Dense", 6, true});    // no paper point drawn: left out
  d.references.push_back({"Broken", 0, false});  // not positive on a log axis: left out
  PlotText text = plot_text(req, d, "r");
  INFO(text.script);
  CHECK(text.plotted == 2);
  CHECK(text.dropped == 1);
  CHECK(text.script.find("# Reference line 'Broken' left out") != std::string::npos);
  CHECK(text.script.find("set arrow 1 from graph 0, first 20 ") != std::string::npos);
  CHECK(text.script.find("set arrow 2") == std::string::npos);
  // y: 20..60 padded by 5% of the log span each side, tics over 20..60; x: autoscaled from the points.
  CHECK(text.script.find("set yrange [18.931:63.388]\nset ytics (20, 25, 31, 39, 48, 60)\n") != std::string::npos);
  CHECK(text.script.find("set offsets graph 0.05, graph 0.05, 0, 0\n") != std::string::npos);
  CHECK(text.script.find("set xrange") == std::string::npos);
}

TEST_CASE("plot script: log axes, fronts, quoting", "[report][plot]") {
  PlotRequest req;
  req.title = "It's a plot";
  req.x = "bits";
  req.y = "ppl";
  req.log_y = true;
  PlotData d;
  d.series.push_back({"q",
                      SeriesStyle{},
                      {{4, 10, "q [bits=4]", false, ""},
                       {2, 30, "q [bits=2]", false, ""},
                       {3, 40, "q [bits=3]", false, ""},
                       {3, -1, "q [bad]", false, ""},
                       {3, 8, "q [bits=3]", true, ""},
                       {5, 6, "q [bits=5]", true, ""}}});
  PlotText text = plot_text(req, d, "t-pareto");
  INFO(text.script);
  CHECK(text.plotted == 5);
  CHECK(text.dropped == 1);  // not positive on a log axis
  CHECK(text.script.find("set logscale y\n") != std::string::npos);
  CHECK(text.script.find("set logscale x") == std::string::npos);
  // y spans 6..40, less than two decades: fixed to the data with labelled geometric tics.
  CHECK(text.script.find("set autoscale yfix\nset ytics (6, 8.8, 13, 19, 27, 40)\n") != std::string::npos);
  CHECK(text.script.find("set offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05") != std::string::npos);
  {
    PlotData spread;
    spread.series.push_back({"a", SeriesStyle{}, {{1, 1, "a", false, ""}, {2, 1000, "a", false, ""}}});
    PlotText w = plot_text(req, spread, "w");
    CHECK(w.script.find("set ytics") == std::string::npos);  // whole decades are labelled by gnuplot
    CHECK(w.script.find("set offsets graph 0.05, graph 0.05, 0, 0") != std::string::npos);
  }
  CHECK(text.script.find("set title 'It''s a plot'") != std::string::npos);
  CHECK(text.script.find("set xlabel 'bits (lower is better)'") != std::string::npos);
  CHECK(text.script.find("set output 't-pareto.svg'") != std::string::npos);
  CHECK(text.script.find("set output 't-pareto.pdf'") != std::string::npos);
  CHECK(block_lines(text.data, "our Pareto front") ==
        std::vector<std::string>{"2\t30\tq [bits=2]\t-", "4\t10\tq [bits=4]\t-"});
  CHECK(block_lines(text.data, "the paper's Pareto front") ==
        std::vector<std::string>{"3\t8\tq [bits=3]\t-", "5\t6\tq [bits=5]\t-"});
  CHECK(text.script.find("title 'Pareto front (ours)'") != std::string::npos);
}

TEST_CASE("series styles: distinct colours in a table, distinct styles in a paper", "[report][plot]") {
  // Per table or in order of appearance, Q would get different styles in the two tables.
  auto st = assign_styles({{"Dense", "Q", "Z"}, {"A", "Dense", "Q"}});
  REQUIRE(st.size() == 4);
  // Colours: A 0, Dense 1, Q 2 (A and Dense are taken in table 2), Z 0 (A never shares a table with it).
  CHECK(st["A"].colour == st["Z"].colour);
  CHECK(st["A"].colour != st["Dense"].colour);
  CHECK(st["Q"].colour != st["Dense"].colour);
  CHECK(st["Q"].colour != st["A"].colour);
  CHECK(st["Z"].point != st["A"].point);  // same colour, so another marker
  // Markers differ within each table too (it has fewer than six labels).
  CHECK(st["Z"].point != st["Dense"].point);
  CHECK(st["Z"].point != st["Q"].point);
  CHECK(st["Dense"].point != st["Q"].point);
  CHECK(st["A"].point != st["Q"].point);
  CHECK(st["A"].point != st["Dense"].point);
  CHECK(st["A"].number == 1);
  CHECK(st["Z"].number == 4);
  // A paper with many labels: no two share colour, marker and dash; no table repeats a colour
  // while it has at most ten labels.
  std::vector<std::vector<std::string>> tables;
  for (int t = 0; t < 8; ++t) {
    tables.emplace_back();
    for (int l = 0; l < 9; ++l) tables.back().push_back(fmt::format("m{}", (t * 5 + l) % 40));
  }
  auto many = assign_styles(tables);
  std::set<std::tuple<std::string, int, int>> looks;
  std::set<int> numbers;
  for (const auto& [label, s] : many) looks.insert({s.colour, s.point, s.dash}), numbers.insert(s.number);
  CHECK(looks.size() == many.size());
  CHECK(numbers.size() == many.size());
  for (const auto& t : tables) {
    std::set<std::string> colours;
    for (const auto& l : t) colours.insert(many[l].colour);
    CHECK(colours.size() == t.size());
  }
}

TEST_CASE("a label has the same style in the plots of two tables of one paper", "[report][plot]") {
  test::TempDir dir("report-plot");
  fs::create_directories(dir / "paper");
  auto table_toml = [](const std::string& rows) {
    return "[table]\ntitle = \"T\"\nsuite = \"report_test\"\n" + rows +
           "[[plots]]\nx = \"bits\"\ny = \"ppl\"\nreference = [\"Dense\"]\n";
  };
  test::write_text(dir / "paper" / "a.toml",
                   table_toml("[[rows]]\nlabel = \"Dense\"\n"
                              "[[rows]]\nlabel = \"Q\"\ncompressor = { method = \"fakeq\", bits = [2, 3] }\n"
                              "[[rows]]\nlabel = \"Z\"\ncompressor = { method = \"fakeq\", bits = 4 }\n"));
  test::write_text(dir / "paper" / "b.toml",
                   table_toml("[[rows]]\nlabel = \"A\"\ncompressor = { method = \"fakeq\", bits = 5 }\n"
                              "[[rows]]\nlabel = \"Dense\"\n"
                              "[[rows]]\nlabel = \"Q\"\ncompressor = { method = \"fakeq\", bits = [2, 3] }\n"));
  test::write_text(dir / "paper" / "broken.toml", "this is [not toml\n");  // left out, no error
  std::map<std::string, std::string> script;
  for (const std::string name : {"a", "b"}) {
    TableSpec t = TableSpec::load(dir / "paper" / (name + ".toml"));
    if (name == "a") CHECK(paper_label_sets(t) == std::vector<std::vector<std::string>>{{"Q", "Z"}, {"A", "Q"}});
    std::vector<Record> recs;
    for (const auto& r : t.rows)
      recs.push_back(
          ok_record(r, {{"ppl", 10.0 + static_cast<double>(r.index)}, {"bits", 2.0 + static_cast<double>(r.index)}}));
    TableReport rep = build_table_report(t, recs, 0);
    script[name] = plot_text(request_of(t.plots[0]), table_plot_data(rep, t.plots[0]), name).script;
  }
  INFO(script["a"]);
  INFO(script["b"]);
  // Dense, a reference line in every plot of both tables, takes no style.
  const SeriesStyle q = assign_styles({{"Q", "Z"}, {"A", "Q"}}).at("Q");
  CHECK(style_line(script["a"], "Q") ==
        fmt::format("set style line {} lc rgb '{}' lw 1.5 dt 1 pt {} ps 1.2", q.number, q.colour, q.point));
  CHECK(style_line(script["a"], "Q") == style_line(script["b"], "Q"));
  CHECK(style_line(script["a"], "Z") != style_line(script["a"], "Q"));
  CHECK(style_line(script["b"], "A") != style_line(script["b"], "Q"));
  CHECK(style_line(script["a"], "Dense").empty());  // a reference line, no series
}

TEST_CASE("plots: an unknown reference row is a config error naming file:line", "[report][plot]") {
  std::string toml = kPlotToml;
  toml.replace(toml.find("reference = [\"Dense\"]"), 21, "reference = [\"Dens\"]");
  const size_t line = 1 + static_cast<size_t>(std::count(toml.begin(), toml.begin() + toml.find("reference"), '\n'));
  try {
    make_table(toml);
    FAIL("expected ConfigError");
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    CHECK(what.find(fmt::format("t.toml:{}: key 'plots[0].reference'", line)) == 0);
    CHECK(what.find("no row is labelled 'Dens' (did you mean 'Dense'?)") != std::string::npos);
  }
}

TEST_CASE("plots: series = [...] keeps the labels it names, in its order", "[report][plot]") {
  std::string toml = kPlotToml;
  toml +=
      "\n[[plots]]\nname = \"r\"\nx = \"bits\"\ny = \"ppl\"\nseries = [\"R\"]\n"
      "\n[[plots]]\nname = \"rq\"\nx = \"bits\"\ny = \"ppl\"\nseries = [\"R\", \"Q\"]\n";
  TableSpec t = make_table(toml);
  TableReport rep = build_table_report(t, plot_records(t), 0);
  PlotData r = table_plot_data(rep, t.plots[1]);
  REQUIRE(r.series.size() == 1);
  CHECK(r.series[0].label == "R");
  CHECK(r.references.empty());  // Dense: no reference of this plot, not in its series either
  PlotData rq = table_plot_data(rep, t.plots[2]);
  REQUIRE(rq.series.size() == 2);
  CHECK(rq.series[0].label == "R");
  CHECK(rq.series[1].label == "Q");
  // A filtered series keeps its paper-wide style.
  CHECK(r.series[0].style.number == table_plot_data(rep, t.plots[0]).series[1].style.number);

  std::string bad = kPlotToml;
  bad += "series = [\"Q\", \"Q [bits=2]\"]\n";
  try {
    make_table(bad);
    FAIL("expected ConfigError");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()).find("t.toml:") == 0);
    CHECK(std::string(e.what()).find("key 'plots[0].series': no [[rows]] entry is labelled 'Q [bits=2]'") !=
          std::string::npos);
  }
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
  CHECK(svg.find(">Q<") != std::string::npos);
  CHECK(svg.find("fakeq(") == std::string::npos);
  CHECK(svg.find("Pareto front (ours)") != std::string::npos);
  CHECK(test::read_text(f.png).substr(1, 3) == "PNG");
  CHECK(test::read_text(f.pdf).substr(0, 5) == "%PDF-");
}

TEST_CASE("concurrent writers of one plot both succeed and leave whole files, no temporaries",
          "[report][plot][gnuplot]") {
  if (!have_gnuplot()) return;
  TableSpec t = make_table(kPlotToml);
  TableReport rep = build_table_report(t, plot_records(t), 0);
  test::TempDir dir("report-plot-concurrent");
  // Two writers at once (two `repro report` processes in the field; threads here): each renders under
  // its own temporary names and renames the finished images into place.
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int w = 0; w < 2; ++w)
    writers.emplace_back([&] {
      try {
        write_table_plots(rep, dir.path());
      } catch (...) {
        ++failures;
      }
    });
  for (auto& w : writers) w.join();
  CHECK(failures == 0);
  for (const char* ext : {".svg", ".png", ".pdf", ".gp", ".dat"})
    check_non_empty(dir.path() / (std::string("t-pareto") + ext));
  for (const auto& e : std::filesystem::directory_iterator(dir.path()))
    CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
  CHECK(test::read_text(dir.path() / "t-pareto.pdf").substr(0, 5) == "%PDF-");
}

TEST_CASE("a plot with no point is skipped", "[report][plot]") {
  TableSpec t = make_table(kPlotToml);
  for (auto& r : t.rows) r.paper.clear();
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
  PlotSpec p;
  p.x = "bits";
  p.y = "ppl";
  p.log_x = true;
  p.reference = {"Dense"};
  auto files = write_adhoc_plot(plot_records(t), p, &t, dir / "adhoc");
  REQUIRE(files.size() == 5);
  for (const auto& f : files) check_non_empty(f);
  CHECK(files[0] == dir / "adhoc.gp");
  const std::string gp = test::read_text(files[0]);
  CHECK(gp.find("set logscale x") != std::string::npos);
  CHECK(gp.find("set arrow 1 from graph 0, first 20 ") != std::string::npos);
  CHECK(count(gp, "title 'Q'") == 1);
  CHECK(block_lines(test::read_text(files[1]), "Q, ours").size() == 3);
  CHECK(test::read_text(files[2]).find("ppl vs bits") != std::string::npos);
  // Without the table each display label is a series of its own.
  auto bare = write_adhoc_plot(plot_records(t), p, nullptr, dir / "bare");
  CHECK(test::read_text(bare[0]).find("title 'Q [bits=4]'") != std::string::npos);
  p.y = "acc";
  CHECK_THROWS_AS(write_adhoc_plot(plot_records(t), p, &t, dir / "none"), DataError);
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

TEST_CASE("plot script: join = \"x\" joins a series in x order; point labels give the sweep values", "[report][plot]") {
  TableSpec t = make_table(kPlotToml);
  TableReport rep = build_table_report(t, plot_records(t), 0);
  PlotRequest req = request_of(t.plots[0]);
  req.join_by_x = true;
  req.point_labels = true;
  PlotText text = plot_text(req, table_plot_data(rep, t.plots[0]), "t-pareto");
  INFO(text.script);
  INFO(text.data);
  // Q's sweep runs 4, 2, 3 bits: its line (ours and the paper's) now goes 2, 3, 4.
  CHECK(block_lines(text.data, "Q, ours, in x order") == std::vector<std::string>{"2.1\t60\tQ [bits=2]\tbits=2",
                                                                                  "3.1\t30\tQ [bits=3]\tbits=3",
                                                                                  "4.1\t35\tQ [bits=4]\tbits=4"});
  CHECK(block_lines(text.data, "Q, the paper's, in x order") ==
        std::vector<std::string>{"2\t12\tQ [bits=2]\tbits=2", "3\t8\tQ [bits=3]\tbits=3", "4\t7\tQ [bits=4]\tbits=4"});
  CHECK(text.script.find("one block per series, in x order") != std::string::npos);
  // Labels after the two reference labels, ours only, in the series' colour.
  const std::string colour = paper_styles(t).at("Q").colour;
  CHECK(text.script.find("set label 3 '2' at first 2.1, first 60 left offset char 0.6, char 0.5 tc rgb '" + colour +
                         "' font ',8' front\n") != std::string::npos);
  CHECK(count(text.script, "set label ") == 2 + 5);
  CHECK(sweep_values("pattern=8:16") == "8:16");
  CHECK(sweep_values("bits=3,sparsity=0.5") == "3, 0.5");
  // The default keeps sweep order and draws no point labels.
  PlotText plain = plot_text(request_of(t.plots[0]), table_plot_data(rep, t.plots[0]), "t-pareto");
  CHECK(block_lines(plain.data, "Q, ours, in sweep order").front() == "4.1\t35\tQ [bits=4]\tbits=4");
  CHECK(count(plain.script, "set label ") == 2);
}
