// Number formatting and escaping for the three table formats.

#include <cmath>
#include <limits>

#include "report/number_format.h"
#include "report/text_escape.h"
#include "tests/catch.h"

using namespace repro::report;

TEST_CASE("format_value keeps significant digits and trailing zeros", "[report][format]") {
  CHECK(format_value(31.7, 3) == "31.7");
  CHECK(format_value(39.0, 3) == "39.0");
  CHECK(format_value(39.04, 3) == "39.0");
  CHECK(format_value(9.996, 3) == "10.0");  // rounding carries into a new digit
  CHECK(format_value(0.00123456, 3) == "0.00123");
  CHECK(format_value(0.000123456, 3) == "0.000123");
  CHECK(format_value(0.0000123456, 3) == "1.23e-05");
  CHECK(format_value(12345.6, 3) == "12346");  // integer digits are never dropped
  CHECK(format_value(-2.5, 4) == "-2.500");
  CHECK(format_value(0.0, 3) == "0");
  CHECK(format_value(std::nan(""), 3) == "nan");
  CHECK(format_value(-std::numeric_limits<double>::infinity(), 3) == "-inf");
  CHECK(format_signed(1.2, 3) == "+1.20");
  CHECK(format_signed(-0.3, 3) == "-0.300");
  CHECK(format_signed(0.0, 3) == "0");
  CHECK(format_trimmed(30.000000000000004, 3) == "30");
  CHECK(format_trimmed(41.23, 3) == "41.2");
  CHECK(format_trimmed(0.00001, 3) == "1e-05");
  CHECK(format_difference(21.4, 6.14) == "15.26");
  CHECK(format_difference(4.1, 4) == "0.1");  // not 0.0999999999999996
  CHECK(format_difference(4, 4.1) == "-0.1");
  CHECK(format_difference(1e-5, 2e-6) == "0.000008");
  CHECK(format_difference(16, 16) == "0");
  CHECK(format_difference(1.0 / 3.0, 0) == "0.3333333333333333");
  CHECK(format_exact(0.1) == "0.1");
  CHECK(format_exact(1e-5) == "1e-05");
  CHECK(format_exact(12345.678) == "12345.678");
}

TEST_CASE("latex_escape escapes every special character", "[report][latex]") {
  CHECK(latex_escape("a_b%c&d#e$f{g}h") == "a\\_b\\%c\\&d\\#e\\$f\\{g\\}h");
  CHECK(latex_escape("~^\\") == "\\textasciitilde{}\\textasciicircum{}\\textbackslash{}");
  CHECK(latex_escape("a<b>c|d") == "a\\textless{}b\\textgreater{}c\\textbar{}d");
  CHECK(latex_escape("≥ 30% Δ – —") == "$\\geq$ 30\\% $\\Delta$ -- ---");
  CHECK(latex_escape("two\nlines") == "two lines");
  CHECK(latex_escape("héllo") == "héllo");  // other UTF-8 passes through
}

TEST_CASE("markdown escaping keeps table cells intact", "[report][markdown]") {
  CHECK(markdown_escape("a | b\nc") == "a \\| b c");
  CHECK(markdown_code("dense | model=x") == "`dense | model=x`");
  CHECK(markdown_code("a`b") == "``a`b``");
  CHECK(markdown_code("`a") == "`` `a ``");
}

TEST_CASE("csv_field quotes per RFC 4180", "[report][csv]") {
  CHECK(csv_field("plain") == "plain");
  CHECK(csv_field("") == "");
  CHECK(csv_field("a,b") == "\"a,b\"");
  CHECK(csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(csv_field("two\nlines") == "\"two\nlines\"");
  CHECK(csv_field(" padded") == "\" padded\"");
}

TEST_CASE("display_width counts code points", "[report][format]") {
  CHECK(display_width("abc") == 3);
  CHECK(display_width("Δ–✓") == 3);
}
