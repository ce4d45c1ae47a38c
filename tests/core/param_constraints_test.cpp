// Parameter ranges, cross-parameter rules and nested components: all checked when a table loads,
// for every row, before any row runs.

#include "tests/catch.h"

#include "core/config.h"
#include "core/driver.h"
#include "core/error.h"
#include "core/table_spec.h"
#include "tests/core/fake_plugins.h"

using namespace repro;

namespace {

const char* kHead = "[table]\ntitle = \"T\"\nsuite = \"fake\"\n";

TableSpec parse(const std::string& rows) {
  return TableSpec::parse(parse_toml(std::string(kHead) + rows, "t.toml"), "demo/t", {});
}

std::string error_of(const std::string& rows) {
  try {
    parse(rows);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

const MethodInfo& shrink() { return *Catalog::instance().find("FakeMethod", "shrink"); }

}  // namespace

TEST_CASE("param ranges: constraints read as words", "[core][params]") {
  CHECK(param_int("bits", 4, "").range(2, 8).or_value(16).constraint() == "in [2, 8] or 16");
  CHECK(param_float("rho", 0.1, "").above(0).constraint() == "> 0");
  CHECK(param_float("p", 0.5, "").at_least(0).below(1).constraint() == "in [0, 1)");
  CHECK(param_int("g", 128, "").at_least(1).or_value(-1).constraint() == ">= 1 or -1");
  CHECK(param_string("m", "a", "", {"a", "b"}).constraint() == "one of a|b");
  CHECK(param_int("free", 1, "").constraint().empty());
  ParamSpec s = param_int("bits", 4, "").range(2, 8).or_value(16);
  CHECK(s.accepts(2));
  CHECK(s.accepts(16));
  CHECK_FALSE(s.accepts(1));
  CHECK_FALSE(s.accepts(9));
  ParamSpec open = param_float("rate", 0.5, "").above(0).at_most(1);
  CHECK_FALSE(open.accepts(0));
  CHECK(open.accepts(1));
}

TEST_CASE("param ranges: an out-of-range value is a ConfigError naming file:line and key", "[core][params]") {
  const std::string e = error_of("[[rows]]\nlabel = \"S\"\ncompressor = { method = \"shrink\", rate = 0.0 }\n");
  INFO(e);
  CHECK(e.find("t.toml:6") != std::string::npos);
  CHECK(e.find("rows[0].compressor.rate") != std::string::npos);
  CHECK(e.find("(0, 1]") != std::string::npos);
  CHECK(error_of("[[rows]]\nlabel = \"S\"\ncompressor = { method = \"shrink\", width = 0 }\n").find(">= 1 or -1") !=
        std::string::npos);
  CHECK_NOTHROW(parse("[[rows]]\nlabel = \"S\"\ncompressor = { method = \"shrink\", width = -1 }\n"));
}

TEST_CASE("param ranges: every value of a sweep is checked when the table loads", "[core][params]") {
  // Row 17 of the expanded table is out of range: the load fails, so no row can run.
  std::string rows;
  for (int i = 0; i < 16; ++i) rows += "[[rows]]\nlabel = \"R" + std::to_string(i) + "\"\ncompressor = \"shrink\"\n";
  rows += "[[rows]]\nlabel = \"Sweep\"\ncompressor = { method = \"shrink\", rate = [0.5, 1.5] }\n";
  const std::string e = error_of(rows);
  CHECK(e.find("rows[16].compressor.rate") != std::string::npos);
  CHECK(e.find("1.5 is out of range") != std::string::npos);
}

TEST_CASE("param rules: a plugin's cross-parameter rule runs at load", "[core][params]") {
  const std::string e =
      error_of("[[rows]]\nlabel = \"S\"\ncompressor = { method = \"shrink\", mode = \"slow\", bits = 3 }\n");
  CHECK(e.find("bits") != std::string::npos);
  CHECK(e.find("even in slow mode") != std::string::npos);
  CHECK(e.find("t.toml:6") != std::string::npos);
  CHECK_NOTHROW(parse("[[rows]]\nlabel = \"S\"\ncompressor = { method = \"shrink\", mode = \"slow\", bits = 4 }\n"));
}

TEST_CASE("components: a name or a table, validated against the family, canonical in the spec", "[core][params]") {
  auto t = parse(
      "[[rows]]\nlabel = \"Default\"\ncompressor = \"shrink\"\n"
      "[[rows]]\nlabel = \"Named\"\ncompressor = { method = \"shrink\", solver = \"exact\" }\n"
      "[[rows]]\nlabel = \"Table\"\ncompressor = { method = \"shrink\", solver = { method = \"exact\", iters = 300 } }\n");
  REQUIRE(t.rows.size() == 3);
  const Params& p0 = t.rows[0].first("compressor")->params;
  CHECK(p0.get_component("solver").method == "greedy");
  CHECK(p0.get_component("solver").canonical() == "greedy()");
  const Params& p2 = t.rows[2].first("compressor")->params;
  const ComponentParams& c = p2.get_component("solver");
  CHECK(c.method == "exact");
  CHECK(c.params->get_int("iters") == 300);
  CHECK(c.params->get_float("tol") == 1e-3);  // its own default
  CHECK(t.rows[2].pipeline().find("solver=exact(iters=300,tol=0.001)") != std::string::npos);
  CHECK(t.rows[1].pipeline().find("solver=exact(iters=100,tol=0.001)") != std::string::npos);
  CHECK(p2.component_versions() == std::vector<std::string>{"exact@7"});
}

TEST_CASE("components: errors name the nested key", "[core][params]") {
  CHECK(error_of("[[rows]]\nlabel = \"S\"\ncompressor = { method = \"shrink\", solver = \"exakt\" }\n")
            .find("unknown FakeSolver 'exakt' (did you mean 'exact'?)") != std::string::npos);
  const std::string range =
      error_of("[[rows]]\nlabel = \"S\"\ncompressor = { method = \"shrink\", solver = { method = \"exact\", iters = 0 } }\n");
  CHECK(range.find("rows[0].compressor.solver.iters") != std::string::npos);
  CHECK(range.find("t.toml:6") != std::string::npos);
  CHECK(error_of("[[rows]]\nlabel = \"S\"\ncompressor = { method = \"shrink\", solver = { method = \"exact\", "
                 "itres = 3 } }\n")
            .find("unknown key 'rows[0].compressor.solver.itres'") != std::string::npos);
  // The nested plugin's own cross-parameter rule runs too.
  CHECK(error_of("[[rows]]\nlabel = \"S\"\ncompressor = { method = \"shrink\", solver = { method = \"exact\", "
                 "iters = 600, tol = 1e-9 } }\n")
            .find("too small") != std::string::npos);
  CHECK(error_of("[[rows]]\nlabel = \"S\"\ncompressor = { method = \"shrink\", solver = 3 }\n")
            .find("expected a FakeSolver name or a table with 'method'") != std::string::npos);
  CHECK(error_of("[[rows]]\nlabel = \"S\"\ncompressor = { method = \"shrink\", solver = { iters = 3 } }\n")
            .find("needs 'method") != std::string::npos);
}

TEST_CASE("components: a nested parameter can be swept", "[core][params]") {
  auto t = parse(
      "[[rows]]\nlabel = \"S\"\ncompressor = { method = \"shrink\", solver = { method = \"exact\", iters = [10, 20] } "
      "}\n");
  REQUIRE(t.rows.size() == 2);
  CHECK(t.rows[0].display == "S [iters=10]");
  CHECK(t.rows[1].first("compressor")->params.get_component("solver").params->get_int("iters") == 20);
}

TEST_CASE("components: the nested plugin's parameters and version are in the row key", "[core][params]") {
  auto t = parse(
      "[[rows]]\nlabel = \"A\"\ncompressor = { method = \"shrink\", solver = \"greedy\" }\n"
      "[[rows]]\nlabel = \"B\"\ncompressor = { method = \"shrink\", solver = \"exact\" }\n"
      "[[rows]]\nlabel = \"C\"\ncompressor = { method = \"shrink\", solver = { method = \"exact\", iters = 5 } }\n");
  const nlohmann::json fp = {{"model", "m"}};
  const SuiteInfo& suite = *t.suite_info;
  const std::string a = row_key(t.rows[0], fp, 0, suite), b = row_key(t.rows[1], fp, 0, suite),
                    c = row_key(t.rows[2], fp, 0, suite);
  CHECK(a != b);
  CHECK(b != c);
  CHECK(a == row_key(t.rows[0], fp, 0, suite));
}

TEST_CASE("components: Params::validate fills a default component and checks the family", "[core][params]") {
  Params p = Params::validate(Value(Value::Table{}), shrink().params, "method 'shrink'");
  CHECK(p.get_component("solver").method == "greedy");
  CHECK(p.canonical().find("solver=greedy()") != std::string::npos);
  CHECK_THROWS_AS(p.get_component("bits"), InternalError);
}
