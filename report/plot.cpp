#include "report/plot.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include <unistd.h>

#include <fmt/format.h>

#include "core/error.h"
#include "core/store.h"
#include "core/strings.h"
#include "report/gnuplot.h"

namespace fs = std::filesystem;

namespace repro::report {

namespace {

void check_output(const fs::path& file, const fs::path& script) {
  std::error_code ec;
  auto size = fs::file_size(file, ec);
  if (ec || size == 0)
    throw IoError(
        fmt::format("gnuplot wrote no {} (or an empty one) from {}", file.filename().string(), script.string()));
}

// "bits=3" or "pattern=2:4,sparsity=0.5": the values a sweep gave this row.
std::string sweep_tag(const RowSpec& row) {
  std::vector<std::string> parts;
  for (const auto& [axis, value] : row.sweep) parts.push_back(axis + "=" + value);
  return join(parts, ",");
}

// The series labelled `label` in `data`, appended with its style when new.
Series& series_of(PlotData& data, const std::string& label, const std::map<std::string, SeriesStyle>& styles) {
  for (auto& s : data.series)
    if (s.label == label) return s;
  auto it = styles.find(label);
  REPRO_ASSERT(it != styles.end(), "no style for series '" + label + "'");
  data.series.push_back({label, it->second, {}});
  return data.series.back();
}

// Whether plot.series lets the series `label` in (an empty list lets every one in).
bool drawn(const PlotSpec& plot, const std::string& label) {
  return plot.series.empty() || std::find(plot.series.begin(), plot.series.end(), label) != plot.series.end();
}

// Key order: plot.series' order when it gives one, else the order the series were found in.
void order_series(PlotData& data, const PlotSpec& plot) {
  auto rank = [&](const Series& s) {
    return std::find(plot.series.begin(), plot.series.end(), s.label) - plot.series.begin();
  };
  std::stable_sort(data.series.begin(), data.series.end(),
                   [&](const Series& a, const Series& b) { return rank(a) < rank(b); });
}

PlotRequest request_for(const PlotSpec& plot, const std::string& title) {
  PlotRequest req;
  req.title = title;
  req.x = plot.x;
  req.y = plot.y;
  req.x_better = plot.x_better;
  req.y_better = plot.y_better;
  req.log_x = plot.log_x;
  req.log_y = plot.log_y;
  req.join_by_x = plot.join_by_x;
  req.point_labels = plot.point_labels;
  return req;
}

}  // namespace

std::string table_name(const std::string& table_id) {
  auto slash = table_id.rfind('/');
  return slash == std::string::npos ? table_id : table_id.substr(slash + 1);
}

PlotData table_plot_data(const TableReport& report, const PlotSpec& plot) {
  const std::map<std::string, SeriesStyle> styles = paper_styles(*report.table);
  const std::set<size_t> refs(plot.reference_rows.begin(), plot.reference_rows.end());
  PlotData data;
  for (const auto& r : report.rows) {
    auto x = r.metric(plot.x), y = r.metric(plot.y);
    auto px = r.paper(plot.x), py = r.paper(plot.y);
    if (refs.count(r.row->index)) {
      if (y) data.references.push_back({r.row->display, *y, false});
      if (py) data.references.push_back({r.row->display, *py, true});
      continue;
    }
    if (!(x && y) && !(px && py)) continue;
    if (!drawn(plot, r.row->label)) continue;
    Series& s = series_of(data, r.row->label, styles);
    if (x && y) s.points.push_back({*x, *y, r.row->display, false, sweep_tag(*r.row)});
    if (px && py) s.points.push_back({*px, *py, r.row->display, true, sweep_tag(*r.row)});
  }
  order_series(data, plot);
  return data;
}

PlotFiles render_plot(const PlotRequest& request, const PlotData& data, const fs::path& out_base) {
  const std::string base = out_base.filename().string();
  PlotText text = plot_text(request, data, base);
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
  // gnuplot renders a private copy of the script whose outputs carry a name unique to this process
  // and call; each image is renamed into place once complete, so a concurrent or killed writer never
  // leaves a truncated image and two writers never fail each other (the last rename wins; both whole).
  static std::atomic<uint64_t> renders{0};
  const std::string tmp_base = fmt::format("{}.tmp-{}-{}", base, static_cast<long>(::getpid()), renders++);
  const fs::path tmp = out_base.parent_path() / tmp_base;
  PlotText tmp_text = plot_text(request, data, tmp_base);
  auto tmp_with = [&](const char* ext) { return fs::path(tmp.string() + ext); };
  const std::vector<std::pair<fs::path, fs::path>> images = {
      {tmp_with(".svg"), files.svg}, {tmp_with(".png"), files.png}, {tmp_with(".pdf"), files.pdf}};
  auto cleanup = [&] {
    std::error_code ec;
    for (const char* ext : {".gp", ".dat", ".svg", ".png", ".pdf"}) fs::remove(tmp_with(ext), ec);
  };
  try {
    write_file_atomic(tmp_with(".dat"), tmp_text.data);
    write_file_atomic(tmp_with(".gp"), tmp_text.script);
    run_gnuplot(tmp_with(".gp"));
    for (const auto& [from, to] : images) check_output(from, files.script);
    for (const auto& [from, to] : images) fs::rename(from, to);
  } catch (...) {
    cleanup();
    throw;
  }
  cleanup();
  return files;
}

TablePlots write_table_plots(const TableReport& report, const fs::path& out_dir) {
  const TableSpec& t = *report.table;
  TablePlots out;
  for (const auto& plot : t.plots) {
    PlotRequest req = request_for(plot, plot.title.empty() ? t.title : plot.title);
    req.paper_legend = t.paper_model.empty() ? "paper" : fmt::format("paper ({})", t.paper_model);
    PlotData data = table_plot_data(report, plot);
    if (plot_text(req, data, "x").plotted == 0) {
      out.skipped.push_back(fmt::format("{}: no row has both '{}' and '{}' to draw", plot.name, plot.x, plot.y));
      continue;
    }
    out.files.push_back(render_plot(req, data, out_dir / fmt::format("{}-{}", table_name(t.id), plot.name)));
  }
  return out;
}

std::vector<fs::path> write_adhoc_plot(const std::vector<Record>& records, const PlotSpec& plot, const TableSpec* table,
                                       const fs::path& out_base) {
  const std::string& x = plot.x;
  const std::string& y = plot.y;
  // The newest ok record of each computation.
  std::map<std::tuple<std::string, std::string, uint64_t>, const Record*> newest;
  std::vector<std::tuple<std::string, std::string, uint64_t>> order;
  for (const auto& r : records) {
    if (!r.ok() || !r.metrics.count(x) || !r.metrics.count(y)) continue;
    auto key = std::make_tuple(r.row_spec, r.scale, r.seed);
    auto [it, inserted] = newest.emplace(key, &r);
    if (inserted)
      order.push_back(key);
    else if (r.finished_at >= it->second->finished_at)
      it->second = &r;
  }
  if (order.empty()) throw DataError(fmt::format("nothing to plot: no ok record has both '{}' and '{}'", x, y));

  // Each record's row of `table`, if it still is one; rows in table order, then the others as found.
  auto row_of = [&](const Record& r) -> const RowSpec* {
    if (!table || r.row < 0 || static_cast<size_t>(r.row) >= table->rows.size()) return nullptr;
    const RowSpec& row = table->rows[static_cast<size_t>(r.row)];
    return row.display == r.label ? &row : nullptr;
  };
  std::vector<const Record*> recs;
  for (const auto& k : order) recs.push_back(newest[k]);
  std::stable_sort(recs.begin(), recs.end(), [&](const Record* a, const Record* b) {
    const RowSpec* ra = row_of(*a);
    const RowSpec* rb = row_of(*b);
    const size_t ia = ra ? ra->index : std::numeric_limits<size_t>::max();
    const size_t ib = rb ? rb->index : std::numeric_limits<size_t>::max();
    return ia < ib;
  });

  const std::set<std::string> refs(plot.reference.begin(), plot.reference.end());
  auto series_label = [&](const Record& r) {
    const RowSpec* row = row_of(r);
    return row ? row->label : r.label;
  };
  // The paper's styles, plus this plot's labels as one more table: records of rows the config no
  // longer has get styles of their own (and may shift the others').
  std::vector<std::vector<std::string>> label_sets;
  if (table) label_sets = paper_label_sets(*table);
  label_sets.emplace_back();
  for (const Record* r : recs)
    if (!refs.count(r->label)) label_sets.back().push_back(series_label(*r));
  const std::map<std::string, SeriesStyle> styles = assign_styles(label_sets);
  PlotData data;
  for (const Record* r : recs) {
    const double vx = r->metrics.at(x), vy = r->metrics.at(y);
    if (refs.count(r->label)) {
      data.references.push_back({r->label, vy, false});
      continue;
    }
    if (!drawn(plot, series_label(*r))) continue;
    const RowSpec* row = row_of(*r);
    Series& s = series_of(data, series_label(*r), styles);
    s.points.push_back({vx, vy, r->label, false, row ? sweep_tag(*row) : ""});
  }
  order_series(data, plot);
  return render_plot(request_for(plot, plot.title.empty() ? fmt::format("{} vs {}", y, x) : plot.title), data, out_base)
      .all();
}

}  // namespace repro::report
