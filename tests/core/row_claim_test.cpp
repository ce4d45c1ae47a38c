#include "tests/catch.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "core/config.h"
#include "core/driver.h"
#include "core/row_claim.h"
#include "tests/core/fake_plugins.h"
#include "tests/test_util.h"

using namespace repro;

namespace {
const char* kTable =
    "[table]\ntitle = \"T\"\nsuite = \"fake\"\n"
    "[[rows]]\nlabel = \"Dense\"\n"
    "[[rows]]\nlabel = \"S\"\ncompressor = { method = \"shrink\", factor = [0.5, 0.25] }\n";

size_t journal_lines(const std::filesystem::path& p) {
  std::ifstream in(p);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) n += !line.empty();
  return n;
}
}  // namespace

TEST_CASE("row claim: exclusive while held, names its owner, free and removed after release", "[core][claims]") {
  test::TempDir dir;
  auto a = RowClaim::try_claim(dir.path(), "k1");
  REQUIRE(a);
  CHECK(a->held());
  // A second claim (another open file description, as another process would have) is refused.
  CHECK_FALSE(RowClaim::try_claim(dir.path(), "k1"));
  auto who = RowClaim::holder(dir.path(), "k1");
  REQUIRE(who);
  CHECK(who->find(std::to_string(::getpid())) != std::string::npos);
  CHECK(RowClaim::try_claim(dir.path(), "k2"));  // other keys are independent
  a->release();
  CHECK_FALSE(RowClaim::holder(dir.path(), "k1"));
  CHECK_FALSE(std::filesystem::exists(dir.path() / ".claims" / "k1.lock"));
  CHECK(RowClaim::try_claim(dir.path(), "k1"));
}

TEST_CASE("row claim: a claim of a SIGKILLed process is free; a leftover lock file is taken over", "[core][claims]") {
  test::TempDir dir;
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    auto c = RowClaim::try_claim(dir.path(), "k");
    char ok = c ? '1' : '0';
    (void)!::write(ready[1], &ok, 1);
    ::pause();
    ::_exit(0);
  }
  char ok = 0;
  REQUIRE(::read(ready[0], &ok, 1) == 1);
  REQUIRE(ok == '1');
  CHECK_FALSE(RowClaim::try_claim(dir.path(), "k"));
  auto who = RowClaim::holder(dir.path(), "k");
  REQUIRE(who);
  CHECK(who->find(" " + std::to_string(child) + " ") != std::string::npos);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ::close(ready[0]);
  ::close(ready[1]);
  // The dead owner's lock file is still there, but nobody holds it.
  CHECK(std::filesystem::exists(dir.path() / ".claims" / "k.lock"));
  CHECK_FALSE(RowClaim::holder(dir.path(), "k"));
  CHECK(RowClaim::try_claim(dir.path(), "k"));
}

TEST_CASE("driver: rows claimed by another process are not computed twice; it waits for their records",
          "[core][driver][claims]") {
  test::TempDir dir;
  auto table = TableSpec::parse(parse_toml(kTable, "t.toml"), "demo/t", {});
  ResultStore store(dir.path());
  RunOptions o;
  o.progress = false;
  o.log_level = "off";
  RunContext ctx(o);
  TableDriver driver(table, store, ctx);
  auto plan = driver.plan({});
  REQUIRE(plan.size() == 3);
  const auto tdir = store.table_dir("demo/t");

  SECTION("without waiting, the claimed row is left to its owner") {
    auto other = RowClaim::try_claim(tdir, plan[1].key);
    REQUIRE(other);
    DriverOptions opt;
    opt.wait_for_others = false;
    int before = test::fake_suite_runs();
    auto s = driver.run(opt);
    CHECK(test::fake_suite_runs() - before == 2);
    CHECK(s.ran == 2);
    CHECK_FALSE(store.get("demo/t", plan[1].key));
  }
  SECTION("the owner records the row while we wait: we do not compute it") {
    auto other = RowClaim::try_claim(tdir, plan[1].key);
    REQUIRE(other);
    std::thread owner([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      Record r;
      r.table = "demo/t";
      r.key = plan[1].key;
      r.row = 1;
      r.label = plan[1].row->display;
      r.spec = "x";
      r.row_spec = "x";
      r.metrics["score"] = 42;
      r.finished_at = utc_timestamp();
      store.put(r);
      other->release();
    });
    DriverOptions opt;
    opt.poll_seconds = 0.05;
    int before = test::fake_suite_runs();
    auto s = driver.run(opt);
    owner.join();
    CHECK(test::fake_suite_runs() - before == 2);
    CHECK(s.ran == 2);
    CHECK(s.elsewhere == 1);
    CHECK(store.get("demo/t", plan[1].key)->metrics.at("score") == 42);
    CHECK(journal_lines(store.journal_path("demo/t")) == 3);
  }
  SECTION("an owner that goes away without a record: the row is taken over") {
    auto other = RowClaim::try_claim(tdir, plan[2].key);
    REQUIRE(other);
    std::thread owner([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      other->release();
    });
    DriverOptions opt;
    opt.poll_seconds = 0.05;
    int before = test::fake_suite_runs();
    auto s = driver.run(opt);
    owner.join();
    CHECK(test::fake_suite_runs() - before == 3);
    CHECK(s.ran == 3);
    CHECK(s.elsewhere == 0);
    CHECK(store.list("demo/t").size() == 3);
  }
  SECTION("run-row refuses a row another process is computing and names it") {
    auto other = RowClaim::try_claim(tdir, plan[0].key);
    REQUIRE(other);
    std::string holder;
    CHECK_FALSE(driver.run_row(*plan[0].row, &holder));
    CHECK(holder.find(std::to_string(::getpid())) != std::string::npos);
    other->release();
    auto rec = driver.run_row(*plan[0].row);
    REQUIRE(rec);
    CHECK(rec->ok());
  }
}
