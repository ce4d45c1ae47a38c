#include "tests/catch.h"

#include "core/error.h"
#include "core/registry.h"
#include "core/suite.h"
#include "tests/core/fake_plugins.h"

using namespace repro;

namespace {
struct Dup {
  static constexpr const char* kFamily = "DupFamily";
  virtual ~Dup() = default;
};
}  // namespace

TEST_CASE("registry: registered plugins are listed with their parameters", "[core][registry]") {
  const MethodInfo* m = Catalog::instance().find("FakeMethod", "shrink");
  REQUIRE(m != nullptr);
  CHECK(m->find_param("factor") != nullptr);
  CHECK(m->find_param("factor")->default_value.as_float() == 0.5);
  auto suites = Catalog::instance().names(Suite::kFamily);
  CHECK(std::find(suites.begin(), suites.end(), "fake") != suites.end());
  CHECK(Registry<Suite>::instance().contains("fake"));
}

TEST_CASE("registry: duplicate names in a family are rejected", "[core][registry]") {
  static const MethodInfo a{"same", "DupFamily", "first", "", "1", {}};
  static const MethodInfo b{"same", "DupFamily", "second", "", "1", {}};
  auto& reg = Registry<Dup>::instance();
  reg.add(a, [] { return std::make_unique<Dup>(); });
  CHECK_THROWS_AS(reg.add(b, [] { return std::make_unique<Dup>(); }), InternalError);
  CHECK(Catalog::instance().find("DupFamily", "same")->summary == "first");
}

TEST_CASE("registry: an unknown name is a ConfigError with a did-you-mean", "[core][registry]") {
  try {
    Registry<Suite>::instance().create("fak");
    FAIL("no error");
  } catch (const ConfigError& e) {
    std::string msg = e.what();
    CHECK(msg.find("unknown Suite 'fak' (did you mean 'fake'?)") != std::string::npos);
  }
}
