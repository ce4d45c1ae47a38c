#pragma once
// The text of a Pareto plot: a gnuplot script and its tab-separated data file. Pure functions
// (no files, no processes), so the script is easy to test and to read.
//
// Each distinct point label (a canonical spec, often long) gets a number: the number is drawn
// next to the point and the key below the plot lists "<number>  <label>". Our points are filled
// circles coloured per label; the paper's points are open black squares; each front is a line
// through its points (ours solid, the paper's dashed) in x order.

#include <string>
#include <vector>

#include "core/suite.h"
#include "report/pareto.h"

namespace repro::report {

struct PlotRequest {
  std::string title;
  std::string x, y;  // metric names, used as axis labels
  Better x_better = Better::Lower, y_better = Better::Lower;  // None on either axis: no front drawn
  bool log_x = false, log_y = false;
  std::string paper_legend = "paper";  // key entry of the paper points: "paper (Llama-3-8B)"
};

struct PlotText {
  std::string script;    // <base>.gp
  std::string data;      // <base>.dat
  size_t plotted = 0;    // points drawn (ours + paper)
  size_t dropped = 0;    // points left out: NaN, or not positive on a log axis
};

// `base_name`: the file name without extension ("table2-pareto"). The script reads
// <base>.dat and writes <base>.svg, <base>.png and <base>.pdf, all relative to its own folder.
// `points` with plotted == 0 give a script that would fail; callers skip such plots.
PlotText plot_text(const PlotRequest& request, const std::vector<Point>& points, const std::string& base_name);

// "wikitext2_ppl (lower is better)", or the bare name for Better::None.
std::string axis_label(const std::string& metric, Better better);

}  // namespace repro::report
