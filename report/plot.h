#pragma once
// Pareto plots rendered with gnuplot: for a table's [[plots]] entries, and ad hoc (`repro plot`).
//
// Each plot writes <base>.gp (the script) and <base>.dat (its data) beside the rendered
// <base>.svg, <base>.png and <base>.pdf, so a user can restyle it and run gnuplot again.
// How a plot looks (series, reference lines, fronts): report/plot_script.h; how a series gets its
// colour and marker, the same across a paper: report/plot_style.h.

#include <filesystem>
#include <string>
#include <vector>

#include "core/record.h"
#include "core/table_spec.h"
#include "report/pareto.h"
#include "report/plot_script.h"
#include "report/plot_style.h"
#include "report/table_report.h"

namespace repro::report {

struct PlotFiles {
  std::filesystem::path script, data, svg, png, pdf;
  std::vector<std::filesystem::path> all() const { return {script, data, svg, png, pdf}; }
};

// What one [[plots]] entry of the report's table draws: a series per [[rows]] label (those in
// plot.series when it names any, in its order; else in row order), styled by paper_styles(); ours
// from ok rows with both metrics, the paper's from rows whose config gives both; rows in
// plot.reference_rows as reference lines (ours, and the paper's value).
PlotData table_plot_data(const TableReport& report, const PlotSpec& plot);

// Writes <out_base>.gp and .dat (atomically), runs gnuplot, and checks that .svg, .png and .pdf
// exist and are not empty. gnuplot missing -> NotSupported; gnuplot failing or an empty output ->
// IoError; both name the script. No drawable point -> DataError (nothing to plot).
PlotFiles render_plot(const PlotRequest& request, const PlotData& data, const std::filesystem::path& out_base);

struct TablePlots {
  std::vector<PlotFiles> files;
  std::vector<std::string> skipped;  // "pareto: no row has both 'x' and 'y'" for plots with no point
};

// Every [[plots]] entry of the report's table, to <out_dir>/<table name>-<plot name>.*.
TablePlots write_table_plots(const TableReport& report, const std::filesystem::path& out_dir);

// `repro plot`: every ok record holding both metrics, to <out_base>.*, titled plot.title or
// "<y> vs <x>". Re-runs of one computation (same row_spec, scale and seed) count once: the newest.
// With `table`, a record whose row index and display label match a row of it joins that row's
// series (its [[rows]] label, sweep order, paper style); other records are a series each.
// Records whose display label is in plot.reference are reference lines (plot.reference_rows is not
// used); plot.series filters and orders the series as for a table plot. No record with both metrics -> DataError.
// Returns the files written, as PlotFiles::all() orders them (.gp, .dat, .svg, .png, .pdf).
std::vector<std::filesystem::path> write_adhoc_plot(const std::vector<Record>& records, const PlotSpec& plot,
                                                    const TableSpec* table, const std::filesystem::path& out_base);

// The part of a table id after '/': "hassle_free/table2" -> "table2" (the whole id without '/').
std::string table_name(const std::string& table_id);

}  // namespace repro::report
