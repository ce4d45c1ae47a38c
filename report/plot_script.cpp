#include "report/plot_script.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/strings.h"
#include "report/number_format.h"
#include "report/text_escape.h"

namespace repro::report {

namespace {

constexpr double kFrontTie = 1e-4;

// A gnuplot single-quoted string on one line: '' is the only escape.
std::string quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += "''";
    else if (c == '\n' || c == '\r' || c == '\t') out += ' ';
    else out += c;
  }
  return out + "'";
}

std::string data_line(const Point& p) {
  auto field = [](const std::string& text) {
    std::string f = one_line(text);
    std::replace(f.begin(), f.end(), '\t', ' ');
    return f.empty() ? std::string("-") : f;
  };
  return fmt::format("{}\t{}\t{}\t{}\n", format_exact(p.x), format_exact(p.y), field(p.label), field(p.tag));
}

bool drawable(const Point& p, const PlotRequest& r) {
  if (!std::isfinite(p.x) || !std::isfinite(p.y)) return false;
  if (r.log_x && p.x <= 0) return false;
  if (r.log_y && p.y <= 0) return false;
  return true;
}

// Tics for a log axis over [lo, hi] when it spans less than two decades: gnuplot puts none there
// (they sit on powers of ten) and stretches the axis to whole decades. About six geometric steps,
// each rounded to two significant digits; "" when gnuplot's own choice is fine.
std::string narrow_log_tics(double lo, double hi) {
  if (!(lo > 0) || !(hi > lo) || hi / lo >= 100) return "";
  std::vector<std::string> tics;
  double last = 0;
  for (int i = 0; i <= 5; ++i) {
    double v = lo * std::pow(hi / lo, i / 5.0);
    const double unit = std::pow(10.0, std::floor(std::log10(v)) - 1);
    v = std::round(v / unit) * unit;
    if (v > last * (1 + 1e-9)) tics.push_back(fmt::format("{:g}", v)), last = v;
  }
  return join(tics, ", ");
}

struct Range {
  double lo = INFINITY, hi = -INFINITY;
  void add(double v) { lo = std::min(lo, v), hi = std::max(hi, v); }
};

// Axis settings: log scale, narrow-log tics, and an explicit range when `range` must cover more
// than the data (reference lines outside it), padded like the offsets of an autoscaled axis.
// Sets `offset` to the `set offsets` term of this axis.
std::string axis_settings(char axis, bool log, Range data, Range all, std::string& offset) {
  // '%g': gnuplot's default prints 1.000000 .. 0.000010 on a log axis over many decades.
  std::string s = log ? fmt::format("set logscale {0}\nset format {0} '%g'\n", axis) : "";
  const bool wider = all.lo < data.lo || all.hi > data.hi;
  const Range& r = wider ? all : data;
  const std::string tics = log ? narrow_log_tics(r.lo, r.hi) : "";
  if (!wider) {
    if (!tics.empty()) s += fmt::format("set autoscale {0}fix\nset {0}tics ({1})\n", axis, tics);
    // A wide log axis is autoscaled to whole decades, which is room enough.
    offset = log && tics.empty() ? "0" : "graph 0.05";
    return s;
  }
  double lo = r.lo, hi = r.hi;
  if (log && tics.empty()) {
    lo = std::pow(10.0, std::floor(std::log10(lo)));
    hi = std::pow(10.0, std::ceil(std::log10(hi)));
  } else if (log) {
    const double f = std::pow(hi / lo, 0.05);
    lo /= f, hi *= f;
  } else {
    const double pad = hi > lo ? 0.05 * (hi - lo) : std::max(std::abs(lo) * 0.05, 1e-12);
    lo -= pad, hi += pad;
  }
  s += fmt::format("set {}range [{:.6g}:{:.6g}]\n", axis, lo, hi);
  if (!tics.empty()) s += fmt::format("set {}tics ({})\n", axis, tics);
  offset = "0";
  return s;
}

}  // namespace

std::string sweep_values(const std::string& tag) {
  std::vector<std::string> values;
  for (const auto& part : split(tag, ',')) {
    auto eq = part.find('=');
    values.push_back(eq == std::string::npos ? part : part.substr(eq + 1));
  }
  return join(values, ", ");
}

std::string axis_label(const std::string& metric, Better better) {
  if (better == Better::None) return metric;
  return fmt::format("{} ({} is better)", metric, better_name(better));
}

PlotText plot_text(const PlotRequest& req, const PlotData& in, const std::string& base) {
  PlotText out;
  struct Drawn {
    const Series* series;
    std::vector<Point> ours, paper;  // drawable points, in line order (sweep order, or x order)
  };
  std::vector<Drawn> drawn;
  std::vector<Point> all_ours, all_paper;
  Range x_data, y_data;
  for (const auto& s : in.series) {
    Drawn d{&s, {}, {}};
    for (const auto& p : s.points) {
      if (!drawable(p, req)) {
        ++out.dropped;
        continue;
      }
      (p.paper ? d.paper : d.ours).push_back(p);
      (p.paper ? all_paper : all_ours).push_back(p);
      x_data.add(p.x), y_data.add(p.y);
    }
    if (req.join_by_x)
      for (auto* pts : {&d.ours, &d.paper})
        std::stable_sort(pts->begin(), pts->end(), [](const Point& a, const Point& b) { return a.x < b.x; });
    if (!d.ours.empty() || !d.paper.empty()) drawn.push_back(std::move(d));
  }
  out.plotted = all_ours.size() + all_paper.size();

  std::vector<const ReferenceLine*> refs;
  std::vector<std::string> left_out;
  Range y_all = y_data;
  for (const auto& r : in.references) {
    if (r.paper && all_paper.empty()) continue;  // the paper's scale is not on this plot
    if (!std::isfinite(r.y) || (req.log_y && r.y <= 0)) {
      ++out.dropped;
      left_out.push_back(r.label);
      continue;
    }
    refs.push_back(&r);
    y_all.add(r.y);
  }

  const bool fronts = req.x_better != Better::None && req.y_better != Better::None;
  std::vector<size_t> ours_front, paper_front;
  if (fronts) {
    // Differences far below the printed precision (params_kept 0.29999 vs 0.3) do not put a
    // point on the front.
    ours_front = pareto_front(all_ours, req.x_better, req.y_better, kFrontTie);
    paper_front = pareto_front(all_paper, req.x_better, req.y_better, kFrontTie);
  }

  // Data blocks (only non-empty ones; gnuplot fails on an empty block), separated by two blank lines.
  int next_index = 0;
  auto block = [&](const std::vector<Point>& pts, const std::vector<size_t>* subset, const std::string& what) {
    if (next_index > 0) out.data += "\n\n";
    out.data += fmt::format("# {}: x\ty\trow\tsweep\n", one_line(what));
    if (subset)
      for (size_t i : *subset) out.data += data_line(pts[i]);
    else
      for (const auto& p : pts) out.data += data_line(p);
    return next_index++;
  };
  std::vector<int> i_ours(drawn.size(), -1), i_paper(drawn.size(), -1);
  const std::string order = req.join_by_x ? "in x order" : "in sweep order";
  for (size_t k = 0; k < drawn.size(); ++k) {
    const std::string& label = drawn[k].series->label;
    if (!drawn[k].ours.empty()) i_ours[k] = block(drawn[k].ours, nullptr, label + ", ours, " + order);
    if (!drawn[k].paper.empty()) i_paper[k] = block(drawn[k].paper, nullptr, label + ", the paper's, " + order);
  }
  int i_ours_front = ours_front.empty() ? -1 : block(all_ours, &ours_front, "our Pareto front, by x");
  int i_paper_front = paper_front.size() >= 2 ? block(all_paper, &paper_front, "the paper's Pareto front, by x") : -1;

  std::string& s = out.script;
  s += fmt::format("# {}\n", one_line(req.title));
  s += fmt::format("# Generated by ReproBench. Edit and run `gnuplot {0}.gp` in this folder to restyle: it reads\n"
                   "# {0}.dat (one block per series, {1}: x, y, row, sweep values) and writes\n"
                   "# {0}.svg, {0}.png and {0}.pdf.\n",
                   base, order);
  if (out.dropped > left_out.size())
    s += fmt::format("# {} point(s) left out: NaN, or not positive on a log axis.\n", out.dropped - left_out.size());
  for (const auto& l : left_out)
    s += fmt::format("# Reference line {} left out: NaN, or not positive on a log axis.\n", quoted(l));
  s += "set encoding utf8\nset datafile separator \"\\t\"\n";
  s += fmt::format("set title {}\n", quoted(req.title));
  s += fmt::format("set xlabel {}\nset ylabel {}\n", quoted(axis_label(req.x, req.x_better)),
                   quoted(axis_label(req.y, req.y_better)));
  std::string xo, yo;
  s += axis_settings('x', req.log_x, x_data, x_data, xo);
  s += axis_settings('y', req.log_y, y_data, y_all, yo);
  s += fmt::format("set grid\nset offsets {0}, {0}, {1}, {1}\n", xo, yo);
  s += "set key outside right top vertical Left reverse samplen 2.5 spacing 1.3 width 2 font ',10'\n";

  s += "# One line style per series, numbered as in every plot of this paper (report/plot_style.h).\n";
  for (const auto& d : drawn) {
    const SeriesStyle& st = d.series->style;
    s += fmt::format("set style line {} lc rgb '{}' lw 1.5 dt {} pt {} ps 1.2  # {}\n", st.number, st.colour, st.dash,
                     st.point, one_line(d.series->label));
  }
  if (!refs.empty()) s += "# Reference rows: a line at their y, labelled on the line.\n";
  for (size_t k = 0; k < refs.size(); ++k) {
    const ReferenceLine& r = *refs[k];
    const std::string y = format_exact(r.y);
    s += fmt::format("set arrow {} from graph 0, first {} to graph 1, first {} nohead back lw 1.2 lc rgb '#505050' "
                     "dt {}\n",
                     k + 1, y, y, r.paper ? 3 : 4);
    s += fmt::format("set label {} {} at graph 0.01, first {} left offset 0, char 0.6 tc rgb '#505050' font ',9' "
                     "front\n",
                     k + 1, quoted(r.paper ? r.label + " (paper)" : r.label), y);
  }
  if (req.point_labels) {
    s += "# Our points' sweep values, beside each point in its series' colour.\n";
    size_t n = refs.size();
    for (const auto& d : drawn)
      for (const auto& p : d.ours) {
        const std::string text = sweep_values(p.tag);
        if (text.empty()) continue;
        s += fmt::format("set label {} {} at first {}, first {} left offset char 0.6, char 0.5 tc rgb '{}' "
                         "font ',8' front\n",
                         ++n, quoted(text), format_exact(p.x), format_exact(p.y), d.series->style.colour);
      }
  }

  std::vector<std::string> elems;
  const std::string dat = quoted(base + ".dat");
  for (size_t k = 0; k < drawn.size(); ++k) {
    const Series& se = *drawn[k].series;
    const int ls = se.style.number;
    if (i_ours[k] >= 0)
      elems.push_back(fmt::format("{} index {} using 1:2 with linespoints ls {} title {}", dat, i_ours[k], ls,
                                  quoted(se.label)));
    if (i_paper[k] >= 0)
      elems.push_back(fmt::format("{} index {} using 1:2 with points ls {} pt {} {}", dat, i_paper[k], ls,
                                  se.style.hollow,
                                  i_ours[k] >= 0 ? "notitle" : "title " + quoted(se.label + " (paper)")));
  }
  // A front is the staircase that bounds what its points dominate: along x first when lower x is
  // better, else along y first.
  const char* steps = req.x_better == Better::Lower ? "steps" : "fsteps";
  if (i_ours_front >= 0)
    elems.push_back(fmt::format("{} index {} using 1:2 with {} lw 1 dt 2 lc rgb '#303030' "
                                "title 'Pareto front (ours)'",
                                dat, i_ours_front, steps));
  if (i_paper_front >= 0)
    elems.push_back(fmt::format("{} index {} using 1:2 with {} lw 1 dt 3 lc rgb '#808080' "
                                "title 'Pareto front (paper)'",
                                dat, i_paper_front, steps));
  if (!all_paper.empty())
    elems.push_back(fmt::format("keyentry with points pt 6 ps 1.2 lc rgb 'black' title {}",
                                quoted(req.paper_legend + ": open markers")));

  size_t longest = std::string("Pareto front (paper)").size();
  for (const auto& d : drawn) longest = std::max(longest, display_width(d.series->label) + 8);
  if (!all_paper.empty()) longest = std::max(longest, display_width(req.paper_legend) + 14);
  const int width = static_cast<int>(std::clamp<size_t>(640 + 7 * longest + 60, 800, 1400));
  const int height = 500;

  s += fmt::format("set terminal svg size {},{} dynamic noenhanced font 'Sans,11' background rgb 'white'\n", width,
                   height);
  s += fmt::format("set output {}\n", quoted(base + ".svg"));
  s += "plot " + join(elems, ", \\\n     ") + "\n";
  s += fmt::format("set terminal pngcairo size {},{} noenhanced font 'Sans,10' background rgb 'white'\n", width,
                   height);
  s += fmt::format("set output {}\nreplot\n", quoted(base + ".png"));
  s += fmt::format("set terminal pdfcairo size {:.2f}in,{:.2f}in noenhanced font 'Sans,9'\n", width / 100.0,
                   height / 100.0);
  s += fmt::format("set output {}\nreplot\nunset output\n", quoted(base + ".pdf"));
  return out;
}

}  // namespace repro::report
