#include "report/plot.h"

#include <map>
#include <tuple>
#include <set>

#include <fmt/format.h>

#include "core/error.h"
#include "core/store.h"
#include "report/gnuplot.h"
#include "report/plot_script.h"

namespace fs = std::filesystem;

namespace repro::report {

namespace {

// Legends: the pipeline spec, or the full canonical row where two computations share a pipeline
// (a sweep over a suite parameter), so that no two legends are equal.
std::vector<std::string> legends(const std::vector<const Record*>& recs) {
  std::map<std::string, std::set<std::string>> rows_per_spec;
  for (const Record* r : recs) rows_per_spec[r->spec].insert(r->row_spec);
  std::vector<std::string> out;
  for (const Record* r : recs) out.push_back(rows_per_spec[r->spec].size() > 1 ? r->row_spec : r->spec);
  return out;
}

void check_output(const fs::path& file, const fs::path& script) {
  std::error_code ec;
  auto size = fs::file_size(file, ec);
  if (ec || size == 0)
    throw IoError(fmt::format("gnuplot wrote no {} (or an empty one) from {}", file.filename().string(),
                              script.string()));
}

}  // namespace

std::string table_name(const std::string& table_id) {
  auto slash = table_id.rfind('/');
  return slash == std::string::npos ? table_id : table_id.substr(slash + 1);
}

std::vector<Point> table_plot_points(const TableReport& report, const PlotSpec& plot) {
  std::vector<const Record*> recs;
  for (const auto& r : report.rows) {
    auto x = r.metric(plot.x), y = r.metric(plot.y);
    if (x && y) recs.push_back(&*r.record);
  }
  std::vector<std::string> legend = legends(recs);
  std::map<std::string, std::string> legend_of_row;  // canonical row -> legend
  std::map<std::string, size_t> pipeline_rows;       // pipeline -> rows of the table using it
  for (const auto& r : report.table->rows) ++pipeline_rows[r.pipeline()];
  std::vector<Point> points;
  for (size_t i = 0; i < recs.size(); ++i) {
    points.push_back({recs[i]->metrics.at(plot.x), recs[i]->metrics.at(plot.y), legend[i], false});
    legend_of_row[recs[i]->row_spec] = legend[i];
  }
  for (const auto& r : report.rows) {
    auto x = r.paper(plot.x), y = r.paper(plot.y);
    if (!x || !y) continue;
    auto it = legend_of_row.find(r.row->canonical());
    std::string label = it != legend_of_row.end() ? it->second
                        : pipeline_rows[r.row->pipeline()] > 1 ? r.row->canonical()
                                                               : r.row->pipeline();
    points.push_back({*x, *y, label, true});
  }
  return points;
}

PlotFiles render_plot(const PlotRequest& request, const std::vector<Point>& points, const fs::path& out_base) {
  const std::string base = out_base.filename().string();
  PlotText text = plot_text(request, points, base);
  if (text.plotted == 0)
    throw DataError(fmt::format("plot {}: no point to draw ({} point(s) with NaN or not positive on a log axis)",
                                out_base.string(), text.dropped));
  PlotFiles files;
  auto with = [&](const char* ext) { return fs::path(out_base.string() + ext); };
  files.script = with(".gp");
  files.data = with(".dat");
  files.svg = with(".svg");
  files.png = with(".png");
  files.pdf = with(".pdf");
  write_file_atomic(files.data, text.data);
  write_file_atomic(files.script, text.script);
  run_gnuplot(files.script);
  for (const auto& f : {files.svg, files.png, files.pdf}) check_output(f, files.script);
  return files;
}

TablePlots write_table_plots(const TableReport& report, const fs::path& out_dir) {
  const TableSpec& t = *report.table;
  TablePlots out;
  for (const auto& plot : t.plots) {
    PlotRequest req;
    req.title = plot.title.empty() ? t.title : plot.title;
    req.x = plot.x;
    req.y = plot.y;
    req.x_better = plot.x_better;
    req.y_better = plot.y_better;
    req.log_x = plot.log_x;
    req.log_y = plot.log_y;
    req.paper_legend = t.paper_model.empty() ? "paper" : fmt::format("paper ({})", t.paper_model);
    std::vector<Point> points = table_plot_points(report, plot);
    if (plot_text(req, points, "x").plotted == 0) {
      out.skipped.push_back(fmt::format("{}: no row has both '{}' and '{}' to draw", plot.name, plot.x, plot.y));
      continue;
    }
    out.files.push_back(render_plot(req, points, out_dir / fmt::format("{}-{}", table_name(t.id), plot.name)));
  }
  return out;
}

std::vector<fs::path> write_adhoc_plot(const std::vector<Record>& records, const std::string& x,
                                       const std::string& y, Better x_better, Better y_better, bool log_x, bool log_y,
                                       const fs::path& out_base) {
  // The newest ok record of each computation.
  std::map<std::tuple<std::string, std::string, uint64_t>, const Record*> newest;
  std::vector<std::tuple<std::string, std::string, uint64_t>> order;
  for (const auto& r : records) {
    if (!r.ok() || !r.metrics.count(x) || !r.metrics.count(y)) continue;
    auto key = std::make_tuple(r.row_spec, r.scale, r.seed);
    auto [it, inserted] = newest.emplace(key, &r);
    if (inserted) order.push_back(key);
    else if (r.finished_at >= it->second->finished_at) it->second = &r;
  }
  if (order.empty())
    throw DataError(fmt::format("nothing to plot: no ok record has both '{}' and '{}'", x, y));
  std::vector<const Record*> recs;
  for (const auto& k : order) recs.push_back(newest[k]);
  std::vector<std::string> legend = legends(recs);
  std::vector<Point> points;
  for (size_t i = 0; i < recs.size(); ++i) points.push_back({recs[i]->metrics.at(x), recs[i]->metrics.at(y), legend[i], false});

  PlotRequest req;
  req.title = fmt::format("{} vs {}", y, x);
  req.x = x;
  req.y = y;
  req.x_better = x_better;
  req.y_better = y_better;
  req.log_x = log_x;
  req.log_y = log_y;
  return render_plot(req, points, out_base).all();
}

}  // namespace repro::report
