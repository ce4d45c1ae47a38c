// Python str semantics used by the dataset conventions (strip, capitalize, len).

#include "datasets/detail/py_text.h"
#include "tests/catch.h"

using namespace repro::detail;

TEST_CASE("py_strip uses Python's whitespace, including Unicode spaces", "[datasets]") {
  CHECK(py_strip(" \t\n x y \r\n") == "x y");
  CHECK(py_strip("\xC2\xA0 x\xE2\x80\x83 ") == "x");  // U+00A0, U+2003
  CHECK(py_strip("\xC3\xA9") == "\xC3\xA9");          // é is not a space
  CHECK(py_lstrip("  a ") == "a ");
  CHECK(py_rstrip("  a \x1f") == "  a");
  CHECK(py_strip("   ").empty());
}

TEST_CASE("py_capitalize: first character up, the rest down", "[datasets]") {
  CHECK(py_capitalize("MAKE sure") == "Make sure");
  CHECK(py_capitalize("he") == "He");
  CHECK(py_capitalize("\xC3\xA9" "COLE \xC3\x80\xC3\x89 \xC3\xBF") == "\xC3\x89" "cole \xC3\xA0\xC3\xA9 \xC3\xBF");
  CHECK(py_capitalize("\xC3\xBF" "es") == "\xC5\xB8" "es");  // ÿ -> Ÿ
  CHECK(py_capitalize("") == "");
  CHECK(py_capitalize("1ABC") == "1abc");
}

TEST_CASE("py_len counts code points", "[datasets]") {
  CHECK(py_len("abc") == 3);
  CHECK(py_len("\xC3\xA9t\xC3\xA9") == 3);
  CHECK(py_len("\xF0\x9F\x98\x80") == 1);
  CHECK(py_len("\xFF" "a") == 2);  // an invalid byte counts as one
}
