#pragma once
// The report of one table, as the CLI writes it (`repro report`, and after `repro reproduce`):
//
//   <out_dir>/<table>.md   Markdown: ours beside the paper's numbers, claims, failures, notes
//   <out_dir>/<table>.tex  LaTeX booktabs table + claims
//   <out_dir>/<table>.csv  every number, machine-readable
//   <out_dir>/<table>-<plot>.{svg,png,pdf,gp,dat}  one set per [[plots]] entry
//
// where <table> is the part of TableSpec::id after '/' and out_dir is typically
// results/<paper>. Everything is computed from `records` (ResultStore::list); nothing is run.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/record.h"
#include "core/table_spec.h"
#include "report/claims.h"
#include "report/plot.h"

namespace repro::report {

struct ReportFiles {
  std::vector<std::filesystem::path> paths;  // every file written: tables first, then plot files
  std::filesystem::path markdown, latex, csv;
  std::vector<std::filesystem::path> plots;  // every plot file: .gp, .dat, .svg, .png, .pdf
  std::vector<std::string> skipped_plots;    // plots with nothing to draw, and why
  std::vector<ClaimResult> claims;           // the claim checks, in config order
};

// Writes the tables (atomically) and, when `plots`, renders the plots first so the Markdown can
// embed them. gnuplot missing -> NotSupported before any table is written (pass plots = false to
// skip plots);
// gnuplot failing -> IoError.
ReportFiles write_report(const TableSpec& table, const std::vector<Record>& records,
                         const std::filesystem::path& out_dir, uint64_t seed, bool plots = true);

}  // namespace repro::report
