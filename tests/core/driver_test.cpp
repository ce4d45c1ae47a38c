#include "tests/catch.h"

#include <cmath>
#include <stdexcept>

#include <c10/util/Exception.h>

#include "core/config.h"
#include "core/driver.h"
#include "core/error.h"
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

namespace {
const char* kNoisyTable =
    "[table]\ntitle = \"R\"\nsuite = \"fake_noisy\"\n"
    "[[rows]]\nlabel = \"Once\"\n"
    "[[rows]]\nlabel = \"Work\"\nwork_mb = 64\n"
    "[[rows]]\nlabel = \"OOM message\"\nfail = \"cuda_oom_message\"\n"
    "[[rows]]\nlabel = \"OOM error\"\nfail = \"torch_oom\"\n"
    "[[rows]]\nlabel = \"Torch\"\nfail = \"torch\"\n"
    "[[rows]]\nlabel = \"Rep\"\nrepeats = 4\n";

const Record& by_label(const std::vector<Record>& recs, const std::string& label) {
  for (const auto& r : recs)
    if (r.label == label) return r;
  FAIL("no record " << label);
  throw std::logic_error("unreachable");
}
}  // namespace

TEST_CASE("driver: a repeated suite records mean, sample std and n per metric", "[core][driver][repetitions]") {
  test::TempDir dir;
  auto table = TableSpec::parse(parse_toml(kNoisyTable, "r.toml"), "demo/r", {});
  ResultStore store(dir.path());
  RunContext ctx(quiet());
  TableDriver driver(table, store, ctx);
  driver.run({});
  auto recs = store.list("demo/r");  // read back from the JSON files
  REQUIRE(recs.size() == 6);

  const Record& once = by_label(recs, "Once");
  REQUIRE(once.ok());
  CHECK(once.repeated("noisy") == nullptr);  // repeats = 1: measured once, stored as a number

  const Record& rep = by_label(recs, "Rep");
  REQUIRE(rep.ok());
  const Repetitions* r = rep.repeated("noisy");
  REQUIRE(r != nullptr);
  REQUIRE(r->n() == 4);
  // Repetition 0 draws what the unrepeated row drew; the others draw fresh streams.
  CHECK(r->values[0] == once.metrics.at("noisy"));
  for (size_t i = 1; i < r->n(); ++i) CHECK(r->values[i] != r->values[0]);
  CHECK(rep.metrics.at("noisy") == Approx(r->mean()));
  double mean = 0, ss = 0;
  for (double v : r->values) mean += v / 4.0;
  for (double v : r->values) ss += (v - mean) * (v - mean);
  CHECK(r->stddev() == Approx(std::sqrt(ss / 3.0)));
  CHECK(rep.repeated("once") == nullptr);  // measured outside the repetitions
  CHECK(ctx.repetition() == 0);            // restored after the row

  // Same seed, same repetitions.
  RunContext again_ctx(quiet());
  test::TempDir dir2;
  ResultStore store2(dir2.path());
  TableDriver again(table, store2, again_ctx);
  Record rerun = *again.run_row(table.rows[5]);
  CHECK(rerun.repeated("noisy")->values == r->values);
}

TEST_CASE("driver: CUDA out-of-memory failures are DeviceOutOfMemory error records with a hint",
          "[core][driver][errors]") {
  test::TempDir dir;
  auto table = TableSpec::parse(parse_toml(kNoisyTable, "r.toml"), "demo/r", {});
  ResultStore store(dir.path());
  RunContext ctx(quiet());
  TableDriver driver(table, store, ctx);
  driver.run({});
  auto recs = store.list("demo/r");
  for (const char* label : {"OOM message", "OOM error"}) {
    INFO(label);
    const Record& r = by_label(recs, label);
    CHECK(r.status == "error");
    CHECK(r.error_type == "DeviceOutOfMemory");
    CHECK(r.error_hint.find("calib_batch") != std::string::npos);
    CHECK(r.error_hint.find("eval_batch") != std::string::npos);
    CHECK(r.error_message.find("Exception raised from") == std::string::npos);  // no C++ backtrace
    // The hint is in the JSON on disk.
    CHECK(r.to_json().at("error").at("hint") == r.error_hint);
  }
  CHECK(by_label(recs, "OOM message").error_message.find("CUDA out of memory. Tried to allocate 2.00 GiB") == 0);
  const Record& torch = by_label(recs, "Torch");
  CHECK(torch.error_type == "TorchError");
  CHECK(torch.error_hint.empty());
}

TEST_CASE("device_out_of_memory recognises libtorch's CUDA OOM errors only", "[core][errors]") {
  CHECK(is_cuda_oom_message("CUDA out of memory. Tried to allocate 20.00 MiB"));
  CHECK_FALSE(is_cuda_oom_message("DefaultCPUAllocator: not enough memory"));
  CHECK(device_out_of_memory(std::runtime_error("CUDA out of memory. Tried to allocate 1 GiB")));
  CHECK_FALSE(device_out_of_memory(std::runtime_error("shape mismatch")));
  try {
    TORCH_CHECK_WITH(OutOfMemoryError, false, "allocator gave up");
    FAIL("TORCH_CHECK_WITH did not throw");
  } catch (const std::exception& e) {
    auto oom = device_out_of_memory(e);
    REQUIRE(oom);
    CHECK(std::string(oom->kind()) == "DeviceOutOfMemory");
    CHECK(oom->user_error());
    CHECK(std::string(oom->what()).find("allocator gave up") != std::string::npos);
    CHECK(oom->hint() == DeviceOutOfMemory::kHint);
  }
}

TEST_CASE("driver: peak memory per phase is recorded for every row", "[core][driver][memory]") {
  test::TempDir dir;
  auto table = TableSpec::parse(parse_toml(kNoisyTable, "r.toml"), "demo/r", {});
  ResultStore store(dir.path());
  RunContext ctx(quiet());
  TableDriver driver(table, store, ctx);
  Record once = *driver.run_row(table.rows[0]);
  Record work = *driver.run_row(table.rows[1]);
  for (const Record* r : {&once, &work}) {
    INFO(r->label << ": " << nlohmann::json(r->peak_mem_mb).dump());
    REQUIRE(r->peak_mem_mb.count("host"));
    REQUIRE(r->peak_mem_mb.count("work.host"));
    CHECK(r->peak_mem_mb.at("host") >= r->peak_mem_mb.at("work.host"));
    CHECK_FALSE(r->peak_mem_mb.count("cuda"));  // a CPU row has no CUDA keys
    // A CPU row records no GPU.
    CHECK(r->env.at("gpu").is_null());
    CHECK(r->env.at("gpu_memory_mb").is_null());
  }
  // The "work" phase of the second row held a 64 MiB buffer, the first row's nothing: each phase's
  // peak is its own (the marks are reset when it starts), not the process's peak so far.
  CHECK(work.peak_mem_mb.at("work.host") - once.peak_mem_mb.at("work.host") >= 48.0);
  Record once_again = *driver.run_row(table.rows[0]);
  CHECK(once_again.peak_mem_mb.at("work.host") < work.peak_mem_mb.at("work.host") - 48.0);
}
