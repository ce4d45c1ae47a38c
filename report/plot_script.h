#pragma once
// The text of a Pareto plot: a gnuplot script and its tab-separated data file. Pure functions
// (no files, no processes), so the script is easy to test and to read.
//
// One series per [[rows]] label: our points filled and joined by a line in sweep order (or in x
// order), the paper's numbers as open markers of the same shape and colour; one key entry per
// series; with point_labels, each of our points carries its sweep values. Each
// series style is a gnuplot line style (report/plot_style.h), numbered and drawn the same in every
// plot of a paper. Reference rows ("Dense") are horizontal lines labelled on the line; their y
// counts towards the y range, nothing of theirs towards the x range. Our Pareto front (and the
// paper's, from two points up) is a thin dashed line over the points.

#include <string>
#include <vector>

#include "core/suite.h"
#include "report/pareto.h"
#include "report/plot_style.h"

namespace repro::report {

struct PlotRequest {
  std::string title;
  std::string x, y;  // metric names, used as axis labels
  Better x_better = Better::Lower, y_better = Better::Lower;  // None on either axis: no front drawn
  bool log_x = false, log_y = false;
  std::string paper_legend = "paper";  // the paper's numbers in the key: "paper (Llama-3-8B)"
  // A series' line joins its points in x order (stable: equal x keep sweep order) instead of sweep
  // order: for a sweep whose x does not grow with it (seconds per N:M pattern), no back and forth.
  bool join_by_x = false;
  bool point_labels = false;  // our points labelled with their sweep values ("8:16"), in the series' colour
};

struct Series {
  std::string label;          // the key entry: the [[rows]] label, "RTN g128"
  SeriesStyle style;          // from paper_styles(): the same for this label in every plot of a paper
  std::vector<Point> points;  // in sweep order (row order); ours and the paper's (Point::paper)
};

struct ReferenceLine {
  std::string label;   // "Dense"; the paper's line is labelled "Dense (paper)"
  double y = 0;
  bool paper = false;  // drawn only when the plot shows some paper point
};

struct PlotData {
  std::vector<Series> series;  // key order
  std::vector<ReferenceLine> references;
};

struct PlotText {
  std::string script;    // <base>.gp
  std::string data;      // <base>.dat
  size_t plotted = 0;    // points drawn (ours + paper), reference lines not counted
  size_t dropped = 0;    // points and reference lines left out: NaN, or not positive on a log axis
};

// `base_name`: the file name without extension ("table2-pareto"). The script reads
// <base>.dat and writes <base>.svg, <base>.png and <base>.pdf, all relative to its own folder.
// `data` with plotted == 0 gives a script that would fail; callers skip such plots.
PlotText plot_text(const PlotRequest& request, const PlotData& data, const std::string& base_name);

// A point's sweep values, for its label: "8:16" for the tag "pattern=8:16", "3, 0.5" for
// "bits=3,sparsity=0.5".
std::string sweep_values(const std::string& tag);

// "wikitext2_ppl (lower is better)", or the bare name for Better::None.
std::string axis_label(const std::string& metric, Better better);

}  // namespace repro::report
