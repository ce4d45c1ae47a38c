#include "tests/catch.h"

#include <type_traits>

#include "core/error.h"
#include "core/registry.h"
#include "core/suite_registry.h"
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
  // Suites are in the Catalog too (a MethodInfo view, for `repro list`).
  auto suites = Catalog::instance().names(Suite::kFamily);
  CHECK(std::find(suites.begin(), suites.end(), "fake") != suites.end());
  CHECK(SuiteRegistry::instance().contains("fake"));
}

TEST_CASE("suite registry: REPRO_REGISTER_SUITE registers a suite with its typed info", "[core][registry]") {
  const auto& reg = SuiteRegistry::instance();
  static_assert(std::is_same_v<decltype(reg.find("fake")), const SuiteInfo*>);
  const SuiteInfo* s = reg.find("fake");
  REQUIRE(s != nullptr);
  // The typed info is the suite's own static_info, slots and metrics included: no cast involved.
  CHECK(s == &reg.create("fake")->info());
  REQUIRE(s->slots.size() == 1);
  CHECK(s->slots[0].key == "compressor");
  REQUIRE(s->find_metric("acc") != nullptr);
  CHECK(s->find_metric("acc")->better == Better::Higher);
  CHECK(&reg.info(test::kFakeNoisySuite) == reg.find(test::kFakeNoisySuite));
  CHECK(Catalog::instance().find(Suite::kFamily, "fake") == s);
  auto names = reg.names();
  CHECK(std::is_sorted(names.begin(), names.end()));
  CHECK(std::find(names.begin(), names.end(), test::kFakeNoisySuite) != names.end());
  CHECK(reg.list().size() == names.size());
  CHECK(reg.find("fak") == nullptr);
}

TEST_CASE("suite registry: an unknown suite is a ConfigError naming the registered suites", "[core][registry]") {
  for (int variant = 0; variant < 2; ++variant) {
    try {
      if (variant == 0) SuiteRegistry::instance().info("fak");
      else SuiteRegistry::instance().create("fak");
      FAIL("no error");
    } catch (const ConfigError& e) {
      std::string msg = e.what();
      CHECK(msg.find("unknown Suite 'fak' (did you mean 'fake'?)") != std::string::npos);
      CHECK(msg.find("registered: ") != std::string::npos);
      CHECK(msg.find(test::kFakeNoisySuite) != std::string::npos);
    }
  }
}

namespace {
class NotASuiteFamily : public Suite {
 public:
  static const SuiteInfo& static_info() {
    static const SuiteInfo info = [] {
      SuiteInfo i;
      i.name = "wrong_family";
      i.family = "LayerCompressor";
      return i;
    }();
    return info;
  }
  const SuiteInfo& info() const override { return static_info(); }
  nlohmann::json fingerprint(const RowSpec&, RunContext&) override { return {}; }
  Record run_row(const RowSpec&, RunContext&) override { return {}; }
};
}  // namespace

TEST_CASE("suite registry: a duplicate name or a wrong family is an internal error", "[core][registry]") {
  auto& reg = SuiteRegistry::instance();
  const SuiteInfo& fake = *reg.find("fake");
  CHECK_THROWS_AS(reg.add(fake, [] { return std::unique_ptr<Suite>(); }), InternalError);
  CHECK_THROWS_AS(reg.add(NotASuiteFamily::static_info(), [] { return std::make_unique<NotASuiteFamily>(); }),
                  InternalError);
  CHECK_FALSE(reg.contains("wrong_family"));
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
    Registry<test::FakeMethod>::instance().create("shrnk");
    FAIL("no error");
  } catch (const ConfigError& e) {
    std::string msg = e.what();
    CHECK(msg.find("unknown FakeMethod 'shrnk' (did you mean 'shrink'?)") != std::string::npos);
  }
}
