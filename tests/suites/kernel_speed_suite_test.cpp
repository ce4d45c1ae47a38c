// The kernel_speed suite through the table driver on small shapes: every format is checked against
// its reference before it is timed, the metrics agree with each other and with the bytes a call
// reads, and bad rows fail with the format or shape named.
#include "tests/catch.h"

#include "core/config.h"
#include "core/driver.h"
#include "core/table_spec.h"
#include "tests/test_util.h"

using namespace repro;

namespace {

const char* kTable = R"(
[table]
title = "small kernels"
suite = "kernel_speed"
metrics = ["time_us", "speedup"]

[suite]
reps = 3
burst = 2
min_buffer_mb = 1
triad_mb = 4
settle_ms = 1

[[rows]]
label = "q4"
format = "q4g128"
shape = "256x512"
batch = [1, 3]

[[rows]]
label = "q3"
format = "q3g64"
shape = "96x320"
batch = 2

[[rows]]
label = "2:4"
format = "2:4"
shape = "128x256"
batch = 1

[[rows]]
label = "2:4 + lr"
format = "2:4+lr8"
shape = "128x256"
batch = 1

[[rows]]
label = "fp32"
format = "fp32"
shape = "k_proj"
batch = 1

[[rows]]
label = "bad format"
format = "q5g128"

[[rows]]
label = "bad 2:4 shape"
format = "2:4"
shape = "64x30"
)";

}  // namespace

TEST_CASE("kernel_speed suite on small shapes: checked, consistent metrics, bytes read", "[suites][kernel_speed]") {
  test::TempDir results;
  RunOptions o;
  o.progress = false;
  o.log_level = "off";
  RunContext ctx(o);
  auto table = TableSpec::parse(parse_toml(kTable, "k.toml"), "test/kernels", {});
  ResultStore store(results / "runs");
  TableDriver driver(table, store, ctx);
  driver.run({});
  auto recs = store.list("test/kernels");
  REQUIRE(recs.size() == 8);
  for (const auto& r : recs) {
    if (r.label.rfind("bad", 0) == 0) continue;
    INFO(r.label << ": " << r.error_message);
    REQUIRE(r.ok());
    const auto& m = r.metrics;
    CHECK(m.at("time_us") > 0.0);
    CHECK(m.at("p10_us") <= m.at("time_us"));
    CHECK(m.at("time_us") <= m.at("p90_us"));
    CHECK(m.at("speedup") > 0.0);
    CHECK(m.at("bw_pct") == Approx(100.0 * m.at("gbps") / m.at("triad_gbps")));
    CHECK(m.at("gbps") == Approx(m.at("weight_mb") * 1e6 / (m.at("time_us") * 1e-6) / 1e9));
    // The check ran before the timing, and passed.
    CHECK(r.details.at("check_error_over_bound").get<double>() < 1.0);
    CHECK(r.details.at("weight_copies").get<int>() >= 2);
  }
  // Bytes one call reads: 4-bit codes + fp32 scales and offsets per group of 128.
  CHECK(test::record_labelled(recs, "q4 [batch=1]").metrics.at("weight_mb") ==
        Approx((256 * 512 / 2 + 256 * 4 * 8) / 1e6));
  // 2:4: fp32 values for half the columns + 2-bit positions; + rank-8 fp32 factors.
  const double sparse = (128 * 128 * 4 + 128 * 256 / 8) / 1e6;
  CHECK(test::record_labelled(recs, "2:4").metrics.at("weight_mb") == Approx(sparse));
  CHECK(test::record_labelled(recs, "2:4 + lr").metrics.at("weight_mb") == Approx(sparse + 8 * (128 + 256) * 4 / 1e6));
  CHECK(test::record_labelled(recs, "fp32").metrics.at("weight_mb") == Approx(1024 * 4096 * 4 / 1e6));

  const Record& bad_format = test::record_labelled(recs, "bad format");
  CHECK_FALSE(bad_format.ok());
  CHECK(bad_format.error_message.find("q5g128") != std::string::npos);
  const Record& bad_shape = test::record_labelled(recs, "bad 2:4 shape");
  CHECK_FALSE(bad_shape.ok());
  CHECK(bad_shape.error_message.find("divisible by 4") != std::string::npos);
}
