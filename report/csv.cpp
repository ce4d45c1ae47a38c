#include "report/csv.h"

#include <cmath>

#include <fmt/format.h>

#include "core/strings.h"
#include "report/number_format.h"
#include "report/text_escape.h"

namespace repro::report {

std::string render_csv(const TableReport& rep) {
  const TableSpec& t = *rep.table;
  std::vector<std::string> header = {"row", "label", "spec", "status"};
  for (const auto& m : t.metrics) {
    header.push_back(m);
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
