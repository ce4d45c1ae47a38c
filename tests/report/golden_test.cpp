// Golden tests of the rendered reports: a small table with paper numbers, an uncertain paper
// value, a failed row and a row that was not run.

#include <string>
#include <vector>

#include "report/csv.h"
#include "report/latex.h"
#include "report/markdown.h"
#include "report/table_report.h"
#include "tests/catch.h"
#include "tests/report/report_fixtures.h"

using namespace repro;
using namespace repro::report;
using repro::report_test::error_record;
using repro::report_test::make_table;
using repro::report_test::ok_record;

namespace {

const char* kDemoToml = R"(
[table]
title = "Demo table"
suite = "report_test"
paper_model = "Llama-3-8B"
paper_source = "Demo et al. 2025, Table 2"
description = "Perplexity of quantized models."
metrics = ["ppl", "bits"]

[[rows]]
label = "Dense"
paper = { ppl = 6.14, bits = 16 }

[[rows]]
label = "RTN"
compressor = { method = "fakeq", bits = [3, 4] }
paper = { ppl = [9.5, 7.1] }

[[rows]]
label = "OATS"
compressor = { method = "fakeq", bits = 2 }
paper = { ppl = 14.76 }
paper_uncertain = true
note = "Paper value read from Figure 3."

[[rows]]
label = "Broken"
compressor = { method = "fakeq", bits = 1 }

[[claims]]
kind = "better"
metric = "ppl"
a = "RTN [bits=4]"
b = "RTN [bits=3]"
text = "4-bit beats 3-bit"

[[claims]]
kind = "gap_closed"
metric = "ppl"
a = "RTN [bits=4]"
b = "OATS"
ref = "Dense"
threshold = 0.3

[[claims]]
kind = "less"
metric = "ppl"
a = "Broken"
b = "Dense"

[[claims]]
kind = "ratio_below"
metric = "ppl"
a = "RTN [bits=4]"
b = "Dense"
threshold = 1.2
note = "the paper's ratio is for a 100x larger model"
)";

std::vector<Record> demo_records(const TableSpec& t) {
  return {
      ok_record(t.rows[0], {{"ppl", 21.4}, {"bits", 16}}, "2026-01-01T00:00:00Z"),
      ok_record(t.rows[1], {{"ppl", 39.04}, {"bits", 3.14}}, "2026-01-02T00:00:00Z"),
      ok_record(t.rows[2], {{"ppl", 31.7}, {"bits", 4.14}}, "2026-01-03T00:00:00Z"),
      // rows[3] (OATS) was not run.
      error_record(t.rows[4], "NumericalError", "Cholesky failed\n  at \"layer 3\" | bad", "2026-01-04T00:00:00Z"),
  };
}

}  // namespace

TEST_CASE("markdown report matches the golden text", "[report][markdown]") {
  TableSpec t = make_table(kDemoToml);
  REQUIRE(t.rows.size() == 5);
  TableReport rep = build_table_report(t, demo_records(t), 0);
  const std::string expected =
      R"(## Demo table

Perplexity of quantized models.

Scale: embedded · model: zoo:tiny · paper model: Llama-3-8B · source: Demo et al. 2025, Table 2 · seed: 0 · rows: 3 ok, 1 failed, 1 not run

| method       | ppl                   | paper (Llama-3-8B) | Δ     | bits                  | paper (Llama-3-8B) | Δ   |
| ------------ | --------------------: | -----------------: | ----: | --------------------: | -----------------: | --: |
| Dense        |                  21.4 |               6.14 | +15.3 |                    16 |                 16 |   0 |
| RTN [bits=3] |                  39.0 |               9.50 | +29.5 |                   3.1 |                  – |   – |
| RTN [bits=4] |                  31.7 |               7.10 | +24.6 |                   4.1 |                  – |   – |
| OATS         |                     – |              14.8? |     – |                     – |                  – |   – |
| Broken       | error: NumericalError |                  – |     – | error: NumericalError |                  – |   – |

? marks a paper value that is uncertain (read from a figure, or ambiguous in the paper).

### Failures

- **Broken**: NumericalError: Cholesky failed at "layer 3" \| bad

### Claims

- ✓ 4-bit beats 3-bit — ours: 31.7 vs 39.0 · paper: 7.10 vs 9.50 ✓
- – RTN [bits=4] closes ≥ 30% of the gap from OATS to Dense (ppl) — ours: not run (row 'OATS' has no record) · paper: 88.9% of the gap (7.10 vs 14.8, ref 6.14) ✓
- – Broken < Dense (ppl) — ours: not run (row 'Broken' failed: NumericalError)
- ✗ RTN [bits=4] / Dense ≤ 1.2 (ppl) — ours: ratio 1.48 (31.7 / 21.4) · paper: ratio 1.16 (7.10 / 6.14) ✓
  - note: the paper's ratio is for a 100x larger model

### Notes

- **OATS**: Paper value read from Figure 3.

### Row specs

<details><summary>The canonical spec of each row</summary>

- Dense: `dense | model=zoo:tiny`
- RTN [bits=3]: `fakeq(bits=3,group=128) | model=zoo:tiny`
- RTN [bits=4]: `fakeq(bits=4,group=128) | model=zoo:tiny`
- OATS: `fakeq(bits=2,group=128) | model=zoo:tiny`
- Broken: `fakeq(bits=1,group=128) | model=zoo:tiny`

</details>

---

Environment (newest record, finished 2026-01-04T00:00:00Z): git 1234abc · libtorch 1.13.1 · blas openblas · cpu Test CPU · gpu none · build Release
)";
  CHECK(render_markdown(rep) == expected);
}

TEST_CASE("markdown report embeds plots and leaves out empty sections", "[report][markdown]") {
  TableSpec t = make_table(R"(
[table]
title = "Tiny"
suite = "report_test"
metrics = ["acc"]

[[rows]]
label = "A"
)");
  SECTION("no record: no environment footer, no paper columns") {
    TableReport rep = build_table_report(t, {}, 0);
    std::string md = render_markdown(rep, {"t-pareto.svg"});
    CHECK(md == R"(## Tiny

Scale: embedded · model: – · seed: 0 · rows: 0 ok, 0 failed, 1 not run

| method | acc |
| ------ | --: |
| A      |   – |

### Plots

![t-pareto.svg](t-pareto.svg)

### Row specs

<details><summary>The canonical spec of each row</summary>

- A: `dense | model=zoo:tiny`

</details>
)");
  }
}

TEST_CASE("csv report matches the golden text", "[report][csv]") {
  TableSpec t = make_table(kDemoToml);
  TableReport rep = build_table_report(t, demo_records(t), 0);
  const std::string expected =
      "row,label,spec,status,ppl,ppl_paper,ppl_diff,bits,bits_paper,bits_diff,error\n"
      "0,Dense,dense | model=zoo:tiny,ok,21.4,6.14,15.26,16,16,0,\n"
      "1,RTN [bits=3],\"fakeq(bits=3,group=128) | model=zoo:tiny\",ok,39.04,9.5,29.54,3.14,,,\n"
      "2,RTN [bits=4],\"fakeq(bits=4,group=128) | model=zoo:tiny\",ok,31.7,7.1,24.6,4.14,,,\n"
      "3,OATS,\"fakeq(bits=2,group=128) | model=zoo:tiny\",not_run,,14.76,,,,,\n"
      "4,Broken,\"fakeq(bits=1,group=128) | model=zoo:tiny\",error,,,,,,,"
      "\"NumericalError: Cholesky failed at \"\"layer 3\"\" | bad\"\n";
  CHECK(render_csv(rep) == expected);
}

TEST_CASE("latex report is a booktabs table with the same columns and escaped text", "[report][latex]") {
  TableSpec t = make_table(kDemoToml);
  t.title = "PPL_test: 100% & #1 {x} ~$^\\";
  TableReport rep = build_table_report(t, demo_records(t), 0);
  std::string tex = render_latex(rep);
  CHECK(tex.find("\\caption{PPL\\_test: 100\\% \\& \\#1 \\{x\\} \\textasciitilde{}\\$\\textasciicircum{}"
                 "\\textbackslash{} (scale: embedded, model: zoo:tiny)}") != std::string::npos);
  CHECK(tex.find("\\begin{tabular}{lrrrrrr}\n\\toprule\n") != std::string::npos);
  CHECK(tex.find("method & ppl & paper (Llama-3-8B) & $\\Delta$ & bits & paper (Llama-3-8B) & $\\Delta$ \\\\\n"
                 "\\midrule\n") != std::string::npos);
  CHECK(tex.find("Dense & 21.4 & 6.14 & $+15.3$ & 16 & 16 & $0$ \\\\\n") != std::string::npos);
  CHECK(tex.find("OATS & -- & 14.8? & -- & -- & -- & -- \\\\\n") != std::string::npos);
  CHECK(tex.find("Broken & error: NumericalError & -- & -- & error: NumericalError & -- & -- \\\\\n") !=
        std::string::npos);
  CHECK(tex.find("\\bottomrule\n\\end{tabular}\n") != std::string::npos);
  CHECK(tex.find("\\item[\\textbf{pass}] 4-bit beats 3-bit --- ours: 31.7 vs 39.0; paper: 7.10 vs 9.50 (pass)\n") !=
        std::string::npos);
  CHECK(tex.find(" \\emph{(the paper's ratio is for a 100x larger model)}\n") != std::string::npos);
  CHECK(tex.find("\\item[\\textbf{not run}] RTN [bits=4] closes $\\geq$ 30\\% of the gap from OATS to Dense (ppl)") !=
        std::string::npos);
  CHECK(tex.find("\\item[\\textbf{fail}] RTN [bits=4] / Dense $\\leq$ 1.2 (ppl)") != std::string::npos);
  // Nothing unescaped from the inputs reaches the output.
  CHECK(tex.find("Cholesky") == std::string::npos);  // messages stay in the Markdown/CSV
  CHECK(tex.find("Δ") == std::string::npos);
  CHECK(tex.find("–") == std::string::npos);
}
