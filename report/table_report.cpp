#include "report/table_report.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "report/number_format.h"

namespace repro::report {

size_t TableReport::count(RowState state) const {
  return static_cast<size_t>(std::count_if(rows.begin(), rows.end(), [&](const RowResult& r) { return r.state == state; }));
}

std::vector<std::string> TableReport::model_names() const {
  std::vector<std::string> names;
  for (const auto& r : rows) {
    if (!r.record || !r.record->model.is_object()) continue;
    auto it = r.record->model.find("name");
    if (it == r.record->model.end() || !it->is_string()) continue;
    std::string name = it->get<std::string>();
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

const Record* TableReport::newest_record() const {
  const Record* newest = nullptr;
  for (const auto& r : rows)
    if (r.record && (!newest || r.record->finished_at > newest->finished_at)) newest = &*r.record;
  return newest;
}

bool TableReport::has_uncertain_paper_values() const {
  for (const auto& r : rows) {
    if (!r.row->paper_uncertain) continue;
    for (const auto& m : table->metrics)
      if (r.paper(m)) return true;
  }
  return false;
}

std::vector<size_t> TableReport::repetition_counts() const {
  std::vector<size_t> counts;
  for (const auto& r : rows) {
    if (r.state != RowState::Ok) continue;
    for (const auto& m : table->metrics)
      if (const Repetitions* rep = r.record->repeated(m))
        if (std::find(counts.begin(), counts.end(), rep->n()) == counts.end()) counts.push_back(rep->n());
  }
  std::sort(counts.begin(), counts.end());
  return counts;
}

TableReport build_table_report(const TableSpec& table, const std::vector<Record>& records, uint64_t seed) {
  TableReport rep;
  rep.table = &table;
  rep.seed = seed;
  rep.rows = match_records(table, records, seed);
  rep.claims = check_claims(table, rep.rows);
  return rep;
}

std::vector<Column> report_columns(const TableReport& report) {
  const TableSpec& t = *report.table;
  std::vector<Column> cols;
  cols.push_back({Column::Kind::Label, "", "method"});
  std::string paper_header = t.paper_model.empty() ? "paper" : fmt::format("paper ({})", t.paper_model);
  for (const auto& m : t.metrics) {
    cols.push_back({Column::Kind::Ours, m, m});
    bool any_paper = std::any_of(report.rows.begin(), report.rows.end(),
                                 [&](const RowResult& r) { return r.paper(m).has_value(); });
    if (!any_paper) continue;
    cols.push_back({Column::Kind::Paper, m, paper_header});
    cols.push_back({Column::Kind::Diff, m, "Δ"});
  }
  return cols;
}

std::optional<MeanStdText> mean_std_cell(const TableReport& report, const RowResult& row, const Column& column) {
  if (column.kind != Column::Kind::Ours || row.state != RowState::Ok || !row.record) return std::nullopt;
  const Repetitions* rep = row.record->repeated(column.metric);
  auto v = row.metric(column.metric);
  if (!rep || !v) return std::nullopt;
  return format_mean_std(*v, rep->stddev(), metric_precision(*report.table, column.metric));
}

std::string cell_text(const TableReport& report, const RowResult& row, const Column& column) {
  static const std::string kNone = "–";
  int digits = column.metric.empty() ? kUnknownMetricPrecision : metric_precision(*report.table, column.metric);
  switch (column.kind) {
    case Column::Kind::Label: return row.row->display;
    case Column::Kind::Ours: {
      if (row.state == RowState::Failed) return "error: " + row.record->error_type;
      if (auto ms = mean_std_cell(report, row, column)) return ms->mean + " ± " + ms->stddev;
      auto v = row.metric(column.metric);
      return v ? format_value(*v, digits) : kNone;
    }
    case Column::Kind::Paper: {
      auto p = row.paper(column.metric);
      if (!p) return kNone;
      return format_value(*p, digits) + (row.row->paper_uncertain ? "?" : "");
    }
    case Column::Kind::Diff: {
      auto v = row.metric(column.metric);
      auto p = row.paper(column.metric);
      if (!v || !p || std::isnan(*v) || std::isnan(*p)) return kNone;
      return format_signed(*v - *p, digits);
    }
  }
  return kNone;
}

std::string environment_line(const TableReport& report) {
  const Record* rec = report.newest_record();
  if (!rec) return "";
  auto field = [&](const char* key) -> std::string {
    if (!rec->env.is_object() || !rec->env.contains(key)) return "unknown";
    const auto& v = rec->env.at(key);
    if (v.is_null()) return "none";
    if (v.is_string()) return v.get<std::string>();
    return v.dump();
  };
  return fmt::format("git {} · libtorch {} · blas {} · cpu {} · gpu {} · build {}", field("git"), field("libtorch"),
                     field("blas"), field("cpu"), field("gpu"), field("build_type"));
}

}  // namespace repro::report
