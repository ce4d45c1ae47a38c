#pragma once
// The LaTeX report of one table (results/<paper>/<table>.tex): a booktabs table (\toprule,
// \midrule, \bottomrule; needs \usepackage{booktabs}) with the same columns as the Markdown report,
// captioned with the title, followed by the claims as an itemize. Meant to be \input into a paper
// or a note. Every text from configs and records is escaped (latex_escape).

#include <string>

#include "report/table_report.h"

namespace repro::report {

std::string render_latex(const TableReport& report);

}  // namespace repro::report
