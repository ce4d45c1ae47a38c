// The one-line pipeline syntax of `repro compress --method` (core/pipeline_spec.h): what the text
// parses to, and the syntax errors. Validation against registered methods is tested with the
// plugins linked (tests/suites/model_export_test.cpp).
#include "tests/catch.h"

#include "core/error.h"
#include "core/pipeline_spec.h"

using namespace repro;

TEST_CASE("pipeline spec: components, typed values, nested components and lists", "[core][pipeline_spec]") {
  Value::Array c = parse_pipeline_components(
      "smoothquant(alpha=0.5) + sparsegpt(pattern=2:4,mask_solver=tsenor(iters=300,tau=1e-4),bits=[3, 4])+tm");
  REQUIRE(c.size() == 3);
  CHECK(c[0].find("method")->as_string() == "smoothquant");
  CHECK(c[0].find("alpha")->is_float());
  CHECK(c[0].find("alpha")->as_float() == 0.5);
  const Value& sg = c[1];
  CHECK(sg.find("pattern")->as_string() == "2:4");
  const Value* ms = sg.find("mask_solver");
  REQUIRE(ms->is_table());
  CHECK(ms->find("method")->as_string() == "tsenor");
  CHECK(ms->find("iters")->as_int() == 300);
  CHECK(ms->find("tau")->as_float() == 1e-4);
  REQUIRE(sg.find("bits")->is_array());
  CHECK(sg.find("bits")->as_array().at(1).as_int() == 4);
  CHECK(c[2].as_table().size() == 1);  // "tm": the method alone

  // Booleans, negative ints, exponents with '+', quoted strings, a bare nested name.
  Value::Array d = parse_pipeline_components("x(a=true,b=-1,c=1e+20,d=\"p,q\",e=topk,f=-0.25)");
  const Value& x = d.at(0);
  CHECK(x.find("a")->as_bool());
  CHECK(x.find("b")->as_int() == -1);
  CHECK(x.find("c")->as_float() == 1e20);
  CHECK(x.find("d")->as_string() == "p,q");
  CHECK(x.find("e")->as_string() == "topk");
  CHECK(x.find("f")->as_float() == -0.25);
  CHECK(parse_pipeline_components("dense").empty());
  CHECK(parse_pipeline_components("  ").empty());
  // The canonical form of a table row (floats in shortest round-trip form) reads back unchanged.
  Value::Array e = parse_pipeline_components("rtn(bits=4,group_size=128,sym=false)");
  CHECK(Value(e[0]).canonical() == "{bits=4,group_size=128,method=rtn,sym=false}");
}

TEST_CASE("pipeline spec: syntax errors name the column", "[core][pipeline_spec]") {
  auto msg = [](const std::string& spec) {
    try {
      parse_pipeline_components(spec);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(msg("gptq(bits=4").find("expected ')', got the end") != std::string::npos);
  CHECK(msg("gptq(bits=4,bits=3)").find("given twice") != std::string::npos);
  CHECK(msg("gptq(bits)").find("expected '='") != std::string::npos);
  CHECK(msg("gptq()+").find("expected a name, got the end at column 8") != std::string::npos);
  CHECK(msg("gptq(method=x)").find("'method' is not a parameter") != std::string::npos);
  CHECK(msg("a(b=\"open)").find("unterminated string") != std::string::npos);
}
