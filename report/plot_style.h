#pragma once
// The look of a plot series, the same in every plot of a paper (a folder of paper_configs/).
//
// Every [[rows]] label of the paper's tables gets a style (but labels that all plots of their table
// name as a reference line), assigned over the labels in sorted order:
//   colour: the smallest colour that no label sharing a table with it has (a greedy colouring of
//           the "appear in one table" graph), so the series of one plot differ in colour and a
//           paper of small tables uses the first, most distinct colours;
//   marker: the first that no label of its colour has and, where the six allow, no label sharing a
//           table with it; so no two labels of the paper share colour and marker (past six labels
//           of one colour, or past ten colours, the dash type differs);
//   number: 1 + the label's rank, the gnuplot line style number, unique in the paper.
// A label thus looks the same in every plot of its paper. Adding a table (or a row label) to the
// paper may restyle the others; the result depends on the set of labels only.

#include <map>
#include <string>
#include <vector>

#include "core/table_spec.h"

namespace repro::report {

struct SeriesStyle {
  int number = 1;             // gnuplot line style number
  std::string colour = "#1f77b4";
  int point = 7, hollow = 6;  // gnuplot point types: filled (our numbers), open (the paper's)
  int dash = 1;               // gnuplot dash type of the line joining a sweep
};

// Styles for the labels of `tables` (each: the [[rows]] labels of one table), as above.
std::map<std::string, SeriesStyle> assign_styles(const std::vector<std::vector<std::string>>& tables);

// The [[rows]] labels of `table` and of every other *.toml beside its source file (read as TOML
// only: a sibling that does not parse is left out, its own reproduce reports the error), each less
// the labels that every [[plots]] entry of its table names in `reference`.
std::vector<std::vector<std::string>> paper_label_sets(const TableSpec& table);

// assign_styles(paper_label_sets(table)).
std::map<std::string, SeriesStyle> paper_styles(const TableSpec& table);

}  // namespace repro::report
