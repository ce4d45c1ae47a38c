#include "report/report.h"

#include "core/atomic_file.h"
#include "core/store.h"
#include "report/csv.h"
#include "report/latex.h"
#include "report/markdown.h"
#include "report/table_report.h"

namespace fs = std::filesystem;

namespace repro::report {

ReportFiles write_report(const TableSpec& table, const std::vector<Record>& records, const fs::path& out_dir,
                         uint64_t seed, bool plots) {
  TableReport rep = build_table_report(table, records, seed);
  const std::string name = table_name(table.id);
  sweep_abandoned_temps(out_dir);  // of report writers killed mid-write
  ReportFiles files;
  std::vector<std::string> images;
  if (plots) {
    TablePlots tp = write_table_plots(rep, out_dir);
    for (const auto& pf : tp.files) {
      images.push_back(pf.svg.filename().string());
      for (const auto& f : pf.all()) files.plots.push_back(f);
    }
    files.skipped_plots = std::move(tp.skipped);
  }
  files.markdown = out_dir / (name + ".md");
  files.latex = out_dir / (name + ".tex");
  files.csv = out_dir / (name + ".csv");
  write_file_atomic(files.markdown, render_markdown(rep, images));
  write_file_atomic(files.latex, render_latex(rep));
  write_file_atomic(files.csv, render_csv(rep));
  files.paths = {files.markdown, files.latex, files.csv};
  files.paths.insert(files.paths.end(), files.plots.begin(), files.plots.end());
  files.claims = std::move(rep.claims);
  return files;
}

}  // namespace repro::report
