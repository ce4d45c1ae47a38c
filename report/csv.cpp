#include "report/csv.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/strings.h"
#include "report/number_format.h"
#include "report/text_escape.h"

namespace repro::report {

std::string render_csv(const TableReport& rep) {
  const TableSpec& t = *rep.table;
  // A metric that some row repeated gets <m>_std (sample standard deviation) and <m>_n columns;
  // <m> holds the mean. A value measured once has n = 1 and no std.
  auto repeated = [&](const std::string& m) {
    return std::any_of(rep.rows.begin(), rep.rows.end(), [&](const RowResult& r) {
      return r.state == RowState::Ok && r.record->repeated(m) != nullptr;
    });
  };
  std::vector<std::string> header = {"row", "label", "spec", "status"};
  for (const auto& m : t.metrics) {
    header.push_back(m);
    if (repeated(m)) {
      header.push_back(m + "_std");
      header.push_back(m + "_n");
    }
    header.push_back(m + "_paper");
    header.push_back(m + "_diff");
  }
  header.push_back("error");
  std::string out;
  auto emit = [&](const std::vector<std::string>& fields) {
    std::vector<std::string> quoted;
    for (const auto& f : fields) quoted.push_back(csv_field(f));
    out += join(quoted, ",") + "\n";
  };
  emit(header);
  for (const auto& r : rep.rows) {
    std::vector<std::string> f = {std::to_string(r.row->index), r.row->display, r.row->canonical(),
                                  row_state_name(r.state)};
    for (const auto& m : t.metrics) {
      auto v = r.metric(m);
      auto p = r.paper(m);
      f.push_back(v ? format_exact(*v) : "");
      if (repeated(m)) {
        const Repetitions* r_rep = v ? r.record->repeated(m) : nullptr;
        f.push_back(r_rep ? format_exact(r_rep->stddev()) : "");
        f.push_back(r_rep ? std::to_string(r_rep->n()) : v ? "1" : "");
      }
      f.push_back(p ? format_exact(*p) : "");
      f.push_back(v && p && !std::isnan(*v - *p) ? format_difference(*v, *p) : "");
    }
    f.push_back(r.state == RowState::Failed
                    ? fmt::format("{}: {}", r.record->error_type, one_line(r.record->error_message))
                    : "");
    emit(f);
  }
  return out;
}

}  // namespace repro::report
