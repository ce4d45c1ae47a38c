#pragma once
// Escaping for the three table formats. Each takes UTF-8 text and returns text that the format
// shows literally.

#include <string>
#include <string_view>

namespace repro::report {

// Markdown table cell / list text: '|' -> "\|", newlines and tabs -> one space.
std::string markdown_escape(std::string_view text);

// Text as Markdown inline code (outside tables), fenced with more backticks than any run inside:
// "a|b" -> "`a|b`", "a`b" -> "``a`b``". Newlines -> one space.
std::string markdown_code(std::string_view text);

// LaTeX text mode: _ % & # $ { } -> backslashed; ~ ^ \ < > | -> \textasciitilde{} etc.; a few
// Unicode symbols the reports use map to commands that need no package beyond booktabs
// (≥ -> $\geq$, ≤ -> $\leq$, Δ -> $\Delta$, × -> $\times$, ± -> $\pm$, – -> --, — -> ---).
// Other UTF-8 passes through. Newlines -> one space.
std::string latex_escape(std::string_view text);

// One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF, or starts or ends with a
// space; quotes inside are doubled.
std::string csv_field(std::string_view text);

// Collapses runs of whitespace (newlines included) into single spaces and trims: error messages
// on one line.
std::string one_line(std::string_view text);

// Display width of UTF-8 text: the number of code points (report symbols are all one column wide).
size_t display_width(std::string_view text);

}  // namespace repro::report
