// The conformal suite through the table driver on a micro table: every row records coverage and
// set size with repetitions, the oracle covers, and `local` (a client alone) builds larger sets.
#include "tests/catch.h"

#include "core/config.h"
#include "core/driver.h"
#include "core/table_spec.h"
#include "tests/test_util.h"

using namespace repro;

namespace {

const char* kTable = R"(
[table]
title = "micro conformal"
suite = "conformal"
metrics = ["coverage", "set_size"]

[suite]
num_classes = 5
dim = 4
clients = 4
calibration_per_client = 60
test_per_client = 100
repeats = 5

[[rows]]
label = "Oracle"
method = "central_weighted"

[[rows]]
label = "Local"
method = "local"

[[rows]]
label = "DP-FedCP"
method = { method = "dp_fedcp", rounds = 200 }
alpha = [0.1, 0.2]
)";

}  // namespace

TEST_CASE("conformal suite: a micro table records repeated coverage and set size", "[suites][conformal]") {
  test::TempDir results;
  RunOptions o;
  o.progress = false;
  o.log_level = "off";
  RunContext ctx(o);
  auto table = TableSpec::parse(parse_toml(kTable, "conformal.toml"), "test/conformal", {});
  ResultStore store(results / "runs");
  TableDriver driver(table, store, ctx);
  DriverSummary s = driver.run({});
  REQUIRE(s.failed == 0);
  auto recs = store.list("test/conformal");
  REQUIRE(recs.size() == 4);
  std::map<std::string, Record> by;
  for (const auto& r : recs) {
    INFO(r.label << ": " << r.error_message);
    REQUIRE(r.ok());
    REQUIRE(r.repeated("coverage") != nullptr);
    CHECK(r.repeated("coverage")->n() == 5);
    CHECK(r.metrics.at("coverage") > 0.5);
    CHECK(r.metrics.at("set_size") > 0.5);  // empty sets are allowed at large alpha
    by[r.label] = r;
  }
  CHECK(by.at("Oracle").metrics.at("coverage") > 0.85);
  CHECK(by.at("Local").metrics.at("set_size") > by.at("Oracle").metrics.at("set_size"));
  CHECK(by.at("DP-FedCP [alpha=0.2]").metrics.at("set_size") <= by.at("DP-FedCP [alpha=0.1]").metrics.at("set_size"));
  CHECK(by.at("DP-FedCP [alpha=0.2]").metrics.at("alpha") == 0.2);
}
