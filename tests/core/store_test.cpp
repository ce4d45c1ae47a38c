#include "tests/catch.h"

#include <fstream>

#include "core/store.h"
#include "tests/test_util.h"

using namespace repro;

namespace {
Record make(const std::string& key, int64_t row, const std::string& status = "ok") {
  Record r;
  r.table = "demo/t";
  r.key = key;
  r.row = row;
  r.label = "row" + std::to_string(row);
  r.spec = "dense";
  r.row_spec = "dense | x=1";
  r.metrics["score"] = 1.5 * static_cast<double>(row);
  r.status = status;
  if (status != "ok") r.error_type = "NumericalError", r.error_message = "diverged";
  r.finished_at = utc_timestamp();
  return r;
}
}  // namespace

TEST_CASE("store: put then get round-trips a record", "[core][store]") {
  test::TempDir dir;
  ResultStore store(dir.path());
  store.put(make("k1", 1));
  auto r = store.get("demo/t", "k1");
  REQUIRE(r);
  CHECK(r->metrics.at("score") == 1.5);
  CHECK(r->ok());
  CHECK_FALSE(store.get("demo/t", "k2"));
  store.put(make("k2", 2, "error"));
  auto e = store.get("demo/t", "k2");
  REQUIRE(e);
  CHECK(e->error_type == "NumericalError");
  CHECK(store.list("demo/t").size() == 2);
}

TEST_CASE("store: an interrupted write leaves no half record; leftovers are ignored and cleaned", "[core][store]") {
  test::TempDir dir;
  ResultStore store(dir.path());
  auto tdir = store.table_dir("demo/t");
  std::filesystem::create_directories(tdir);
  // What a writer killed mid-write leaves behind: a temp file with half a record.
  test::write_text(tdir / ".k1.json.tmp-999999-0", "{\"schema\": 1, \"table\": \"demo/t\", \"ke");
  // And a truncated final file (e.g. copied by hand) is treated as absent, not as a crash.
  test::write_text(tdir / "k3.json", "{\"schema\": 1, \"tab");
  CHECK(store.list("demo/t").empty());
  CHECK_FALSE(store.get("demo/t", "k1"));
  CHECK_FALSE(store.get("demo/t", "k3"));
  store.put(make("k1", 1));
  CHECK(store.get("demo/t", "k1"));
  CHECK_FALSE(std::filesystem::exists(tdir / ".k1.json.tmp-999999-0"));
  CHECK(store.list("demo/t").size() == 1);
}

TEST_CASE("store: a record of another schema is not read", "[core][store]") {
  test::TempDir dir;
  ResultStore store(dir.path());
  auto j = make("k1", 1).to_json();
  j["schema"] = 99;
  test::write_text(store.record_path("demo/t", "k1"), j.dump());
  CHECK_FALSE(store.get("demo/t", "k1"));
}
