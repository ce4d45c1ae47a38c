#pragma once
// The Markdown report of one table (results/<paper>/<table>.md). Layout, each section only when
// it has content:
//
//   ## <title>
//   <description>
//   Scale: embedded · model: <records' model names> · paper model: <m> · source: <s> · seed: 0 · rows: ...
//   | method | <metric> | paper (<model>) | Δ | ... |      (see table_report.h for the columns)
//   ? marks ... (footnote when a paper value is uncertain)
//   ### Failures      - **<row>**: <ErrorType>: <message>
//   ### Claims        - ✓ <claim> — ours: ... · paper: ... ✓
//   ### Notes         - **<row label>**: <note>          (once per [[rows]] entry)
//   ### Plots         ![<name>](<image>)
//   ### Row specs     <details> list of each row's canonical spec </details>
//   ---  Environment (newest record, <finished_at>): git ... · build ...
//
// The output is deterministic (golden-tested): same report, same bytes.

#include <string>
#include <vector>

#include "report/table_report.h"

namespace repro::report {

// `plot_images`: image files (relative to the .md file) to embed under "### Plots".
std::string render_markdown(const TableReport& report, const std::vector<std::string>& plot_images = {});

}  // namespace repro::report
