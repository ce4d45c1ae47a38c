#include "tests/catch.h"

#include <string>

#include "core/config.h"
#include "core/error.h"
#include "core/params.h"
#include "core/toml_writer.h"
#include "tests/test_util.h"

using namespace repro;

namespace {
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}
}  // namespace

TEST_CASE("config: a missing file names the path", "[core][config]") {
  auto msg = error_of([] { load_toml_file("/nonexistent/dir/x.toml"); });
  CHECK(msg == "/nonexistent/dir/x.toml: config file not found");
}

TEST_CASE("config: a syntax error names file and line", "[core][config]") {
  auto msg = error_of([] { parse_toml("a = 1\nb = = 2\n", "bad.toml"); });
  CHECK(msg.rfind("bad.toml:2: TOML syntax error", 0) == 0);
}

TEST_CASE("config: typed getters name file:line, key path and expected type", "[core][config]") {
  Value root = parse_toml("[table]\ntitle = \"t\"\ncount = \"four\"\n[table.inner]\nx = 1.5\n", "c.toml");
  ConfigView top(root, "");
  ConfigView tab = top.get_table("table");
  CHECK(tab.get_string("title") == "t");
  CHECK(error_of([&] { tab.get_int("count"); }) == "c.toml:3: key 'table.count': expected int, got string \"four\"");
  CHECK(error_of([&] { tab.get_string("missing"); }).find("key 'table.missing': missing (expected string)") !=
        std::string::npos);
  CHECK(tab.get_table("inner").get_float("x") == 1.5);
  CHECK(tab.get_int("absent", 7) == 7);
  // An int is accepted where a float is expected, not the reverse.
  Value r2 = parse_toml("i = 3\nf = 2.5\n", "n.toml");
  ConfigView v2(r2, "");
  CHECK(v2.get_float("i") == 3.0);
  CHECK(error_of([&] { v2.get_int("f"); }) == "n.toml:2: key 'f': expected int, got float 2.5");
}

TEST_CASE("config: unknown keys are errors with a did-you-mean", "[core][config]") {
  Value root = parse_toml("titel = \"x\"\n", "u.toml");
  ConfigView top(root, "");
  CHECK(error_of([&] { top.check_keys({"title", "suite"}); }) == "u.toml:1: unknown key 'titel' (did you mean 'title'?)");
  CHECK(error_of([&] { top.check_keys({"zzzzzzzz"}); }) == "u.toml:1: unknown key 'titel'");
}

TEST_CASE("params: validate fills defaults, coerces ints and rejects bad input", "[core][params]") {
  std::vector<ParamSpec> specs = {param_int("bits", 4, "bits"), param_float("ratio", 0.5, "ratio"),
                                  param_string("mode", "a", "mode", {"a", "b"}),
                                  param_list("sizes", ParamType::IntList, {Value(1)}, "sizes"),
                                  param_required("name", ParamType::String, "a name")};
  Value given = parse_toml("bits = 3\nratio = 1\nname = \"x\"\n", "p.toml");
  Params p = Params::validate(given, specs, "compressor");
  CHECK(p.get_int("bits") == 3);
  CHECK(p.get_float("ratio") == 1.0);
  CHECK(p.at("ratio").is_float());
  CHECK(p.get_string("mode") == "a");
  CHECK(p.get_int_list("sizes") == std::vector<int64_t>{1});
  CHECK(p.canonical() == "bits=3,mode=a,name=x,ratio=1,sizes=[1]");

  CHECK(error_of([&] { Params::validate(parse_toml("name = \"x\"\nbist = 3\n", "p.toml"), specs, "compressor"); }) ==
        "p.toml:2: unknown key 'compressor.bist' (did you mean 'bits'?)");
  CHECK(error_of([&] { Params::validate(parse_toml("name = \"x\"\nbits = 2.5\n", "p.toml"), specs, "compressor"); }) ==
        "p.toml:2: key 'compressor.bits': expected int, got float 2.5");
  CHECK(error_of([&] { Params::validate(parse_toml("name = \"x\"\nmode = \"c\"\n", "p.toml"), specs, "compressor"); })
            .find("'c' is not one of a, b") != std::string::npos);
  CHECK(error_of([&] { Params::validate(parse_toml("bits = 2\n", "p.toml"), specs, "compressor"); })
            .find("key 'compressor.name': missing") != std::string::npos);
}

TEST_CASE("to_toml writes a table that parse_toml reads back equal", "[core][config]") {
  Value v = parse_toml(R"(
top = "x"
[a]
i = -3
f = 1e-05
g = 0.1
b = true
list = [1, 2, 3]
nested = { s = "p q", t = [[1, 2], ["u"]] }
[[rows]]
k = 1
[[rows]]
k = 2.5
)", "in.toml");
  Value w = parse_toml(to_toml(v), "out.toml");
  CHECK(w.canonical() == v.canonical());
  CHECK(w == v);
  // Nulls have no TOML form: a table leaves them out.
  Value::Table with_null{{"a", Value(1)}, {"n", Value()}};
  CHECK(parse_toml(to_toml(Value(with_null)), "n.toml").canonical() == "{a=1}");
}

// Found by fuzz/table_toml (fuzz/README.md): "[[" followed by a line break reached toml++ 3.3's key
// parser under an assertion (abort with asserts on, undefined behaviour in a clang release build).
TEST_CASE("config: fuzz: a table header without a key is a ConfigError, not a toml++ assertion", "[core][config]") {
  // The fuzzer's input, cut to the lines up to the header.
  const std::string found = "[table]\ntitle = \"Pipeline\"\nsuite = \"pipeline\"\n[suite]\nmodel = \"zoo:tiny\"\n"
                            "seqlen = { embedded = 16, paper = 2048 }\n[[\ntasks = [\"piqa\", rows]]\n";
  CHECK(error_of([&] { parse_toml(found, "t.toml"); }) ==
        "t.toml:7: TOML syntax error: a table header must start with a key, saw byte 0x0A");
  CHECK(error_of([] { parse_toml("a = 1\n[=]\n", "t.toml"); }) ==
        "t.toml:2: TOML syntax error: a table header must start with a key, saw '='");
  CHECK(error_of([] { parse_toml("[[[x]]]\n", "t.toml"); }).find("t.toml:1: TOML syntax error: a table header must "
                                                                 "start with a key, saw '['") == 0);
  CHECK(error_of([] { parse_toml("\xEF\xBB\xBF[ \t#\n", "t.toml"); }).find("t.toml:1: TOML syntax error") == 0);
  // toml++'s own errors stay as they were.
  const std::string blank = error_of([] { parse_toml("[]\n", "t.toml"); });
  CHECK(blank.find("t.toml:1: TOML syntax error: ") == 0);
  CHECK(blank.find("tables with blank bare keys") != std::string::npos);

  // Brackets that open a line inside values, strings and comments are not headers.
  const Value v = parse_toml(
      "x = [\n  [\n    1,\n  ],\n  [ ],\n]\n"
      "s = \"\"\"\n[[\n[=]\"\"\"\"\n"
      "l = '''\n[\n'''\n"
      "e = \"a\\\"[\"\n"
      "# [[\n"
      "[ \"q]\" . 'r' ]\n[[arr]]\n[[ arr ]]\n",
      "ok.toml");
  CHECK(v.as_table().at("x").as_array().size() == 2);
  CHECK(v.as_table().at("s").as_string() == "[[\n[=]\"");
  CHECK(v.as_table().at("l").as_string() == "[\n");
  CHECK(v.as_table().at("q]").as_table().count("r") == 1);
  CHECK(v.as_table().at("arr").as_array().size() == 2);
}

// Found by fuzz/table_toml (fuzz/README.md): a non-ASCII character where toml++ 3.3 tests for
// whitespace (here U+033E after a number) reached TOML_UNREACHABLE in its Unicode whitespace table:
// undefined behaviour in every build.
TEST_CASE("config: fuzz: a non-ASCII character outside strings is a ConfigError, not toml++ UB", "[core][config]") {
  // The start of the fuzzer's input.
  const std::string found = "[table]\ntir = 20\xCC\xBE }\n[s = [{ meth]\ntir = 2048 }\n";
  CHECK(error_of([&] { parse_toml(found, "t.toml"); }) ==
        "t.toml:2: TOML syntax error: a non-ASCII character outside a string or comment");
  CHECK(error_of([] { parse_toml("a = 1\n\xC3\xA9 = 2\n", "t.toml"); }).find("t.toml:2: TOML syntax error: a non-ASCII") ==
        0);
  // The case of marzer/tomlplusplus issue 190: U+00A7 after a line-ending backslash.
  CHECK(error_of([] { parse_toml("s = \"\"\"\\\n\xC2\xA7\"\"\"\n", "t.toml"); })
            .find("t.toml:2: TOML syntax error: a non-ASCII character right after a backslash") == 0);
  CHECK(error_of([] { parse_toml("s = \"\"\"\\\xC2\xA7\"\"\"\n", "t.toml"); })
            .find("t.toml:1: TOML syntax error: a non-ASCII character right after a backslash") == 0);

  // Non-ASCII text in strings and comments stays fine, and so do line-ending backslashes.
  const Value v = parse_toml(
      "# caf\xC3\xA9\n"
      "a = \"caf\xC3\xA9\" # \xC2\xA7\n"
      "b = 'caf\xC3\xA9'\n"
      "c = \"\"\"\n\xC3\xA9\\\n   x\\\"\"\"\"\n"
      "d = '''\\\n\xC3\xA9'''\n"
      "[\"t\xC3\xA9\"]\n"
      "e = 1\n",
      "ok.toml");
  CHECK(v.as_table().at("a").as_string() == "caf\xC3\xA9");
  CHECK(v.as_table().at("b").as_string() == "caf\xC3\xA9");
  CHECK(v.as_table().at("c").as_string() == "\xC3\xA9x\"");
  CHECK(v.as_table().at("d").as_string() == "\\\n\xC3\xA9");
  CHECK(v.as_table().at("t\xC3\xA9").as_table().at("e").loc().line == 10);
}

// Found by fuzz/table_toml (fuzz/README.md): a '}' where an array expects a value ("[ }") reached
// toml++ 3.3's parse_value under TOML_ASSERT_ASSUME (an abort with asserts, UB in clang release).
TEST_CASE("config: fuzz: a '}' inside an array is a ConfigError, not a toml++ assertion", "[core][config]") {
  // The line of the fuzzer's input that holds it (line 12 there).
  const std::string found =
      "[rows]\ncompressor = { method = \"shrink\", factor = [0.5, 0.25], bits = { embedded = [2, 3], paper = [ }, "
      "solver = { method = \"exact\",0iters = [100, 300] } }\n";
  CHECK(error_of([&] { parse_toml(found, "t.toml"); }) == "t.toml:2: TOML syntax error: '}' inside an array");
  CHECK(error_of([] { parse_toml("a = [1,\n  }\n", "t.toml"); }) == "t.toml:2: TOML syntax error: '}' inside an array");
  // Inline tables in arrays and arrays in inline tables stay fine.
  const Value v = parse_toml("a = [{ x = [1, { y = 2 }] }, { }]\n", "ok.toml");
  CHECK(v.as_table().at("a").as_array().size() == 2);
}

// Found by fuzz/table_toml (fuzz/README.md): "1979-05-27T" then a control character reached toml++
// 3.3's parse_time, which asserts a digit; then "1979-05-25 9 ]" (a time too short after the space)
// reached parse_value's value-terminator assertion. Dates and times are refused before toml++.
TEST_CASE("config: fuzz: date and time values are a ConfigError before toml++ parses them", "[core][config]") {
  const std::string refused = "TOML syntax error: dates and times are not supported in ReproBench configs";
  CHECK(error_of([] { parse_toml(std::string("a = 1\nd = 1979-05-27T\x01\0\0\x06" "2\n", 27), "t.toml"); }) ==
        "t.toml:2: " + refused);
  CHECK(error_of([] { parse_toml("x = [1, 1979-05-27tx]\n", "t.toml"); }) == "t.toml:1: " + refused);
  CHECK(error_of([] { parse_toml("t5ctypeIcEle =1979-05-25 9 ] \x7f\nc\"o", "t.toml"); }) == "t.toml:1: " + refused);
  CHECK(error_of([] { parse_toml("a = 2\nt = 07:32:00\n", "t.toml"); }) == "t.toml:2: " + refused);
  CHECK(error_of([] { parse_toml("[table]\nt  = 1978-04-;= 0 }.eow]]\n", "t.toml"); }) == "t.toml:2: " + refused);
  // Date-like keys stay fine, and so do numbers.
  const Value v = parse_toml("[1979-05-27t]\n1979-05-27T = 1\nn = 1979\nm = -5\n", "ok.toml");
  CHECK(v.as_table().at("1979-05-27t").as_table().count("1979-05-27T") == 1);
}

// Found by fuzz/table_toml (fuzz/README.md): toml++ 3.3 reads a bare value ahead through quotes,
// so a non-ASCII character after `"""` in "0924-02-27T07\"\"\":3task..." reached its Unicode table.
TEST_CASE("config: fuzz: a non-ASCII character in a bare value after quotes is a ConfigError", "[core][config]") {
  const std::string found = std::string("[table]\ntitle = \"T\"\nmetr= 0924-02-27T07\"\"\":3task\0\0.", 49) + "\xEF\xBB\xBE\n";
  // Its value starts with a date, refused first now; the same bare value without the date.
  CHECK(error_of([&] { parse_toml(found, "t.toml"); }) ==
        "t.toml:3: TOML syntax error: dates and times are not supported in ReproBench configs");
  const std::string no_date = std::string("[table]\ntitle = \"T\"\nmetr= 0924T07\"\"\":3task\0\0.", 45) + "\xEF\xBB\xBE\n";
  CHECK(error_of([&] { parse_toml(no_date, "t.toml"); }) ==
        "t.toml:3: TOML syntax error: a non-ASCII character outside a string or comment");
  // Found after the merge: an opening bracket and a quote inside a bare value ("2['" then U+FCBF).
  CHECK(error_of([] { parse_toml("#\"sc[suite]]\nt-r = 2['\xEF\xB2\xBF" "eSi", "t.toml"); }) ==
        "t.toml:2: TOML syntax error: a non-ASCII character outside a string or comment");
  // Quoted key segments after bare ones are strings.
  const Value v = parse_toml("a.\"\xC3\xA9\" = 1\nb = [1, \"\xC3\xA9\"]\n", "ok.toml");
  CHECK(v.as_table().at("a").as_table().count("\xC3\xA9") == 1);
}
