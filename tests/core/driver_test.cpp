#include "tests/catch.h"

#include "core/config.h"
#include "core/driver.h"
#include "tests/core/fake_plugins.h"
#include "tests/test_util.h"

using namespace repro;

namespace {
const char* kTable =
    "[table]\ntitle = \"T\"\nsuite = \"fake\"\n"
    "[[rows]]\nlabel = \"Dense\"\n"
    "[[rows]]\nlabel = \"S\"\ncompressor = { method = \"shrink\", factor = [0.5, 0.25] }\n"
    "[[rows]]\nlabel = \"Bad\"\ncompressor = { method = \"shrink\", fail = true }\n";
RunOptions quiet() {
  RunOptions o;
  o.progress = false;
  o.log_level = "off";
  return o;
}
}  // namespace

TEST_CASE("driver: runs missing rows, resumes from records, records failures and retries them", "[core][driver]") {
  test::TempDir dir;
  auto table = TableSpec::parse(parse_toml(kTable, "t.toml"), "demo/t", {});
  ResultStore store(dir.path());
  RunContext ctx(quiet());
  TableDriver driver(table, store, ctx);

  int before = test::fake_suite_runs();
  auto s1 = driver.run({});
  CHECK(s1.planned == 4);
  CHECK(s1.ran == 3);
  CHECK(s1.failed == 1);
  CHECK(test::fake_suite_runs() - before == 4);
  auto recs = store.list("demo/t");
  REQUIRE(recs.size() == 4);
  CHECK(recs[1].metrics.at("score") == 5.0);
  CHECK(recs[3].status == "error");
  CHECK(recs[3].error_type == "NumericalError");
  CHECK(recs[3].error_message == "planted failure");
  CHECK(recs[1].env.contains("libtorch"));
  CHECK(recs[1].time_s.count("total"));

  // Second run: only the failed row is retried.
  before = test::fake_suite_runs();
  auto s2 = driver.run({});
  CHECK(s2.cached == 3);
  CHECK(s2.failed == 1);
  CHECK(test::fake_suite_runs() - before == 1);

  // --rows selects by label glob; --force recomputes cached rows.
  DriverOptions sel;
  sel.rows_glob = "S *";
  sel.force = true;
  before = test::fake_suite_runs();
  auto s3 = driver.run(sel);
  CHECK(s3.planned == 2);
  CHECK(test::fake_suite_runs() - before == 2);
}

TEST_CASE("driver: the key changes with the spec, the seed and the fingerprint", "[core][driver]") {
  auto table = TableSpec::parse(parse_toml(kTable, "t.toml"), "demo/t", {});
  const auto& suite = *table.suite_info;
  nlohmann::json fp = {{"model", "m"}};
  auto k1 = row_key(table.rows[1], fp, 0, suite);
  CHECK(k1 == row_key(table.rows[1], fp, 0, suite));
  CHECK(k1 != row_key(table.rows[2], fp, 0, suite));
  CHECK(k1 != row_key(table.rows[1], fp, 1, suite));
  CHECK(k1 != row_key(table.rows[1], {{"model", "other"}}, 0, suite));
  CHECK(k1.size() == 20);
}
