#include "tests/catch.h"

#include <ATen/ATen.h>

#include "core/memory.h"

using namespace repro;

namespace {
// Holds `mb` MiB, written so that the pages are resident, until the tensor dies.
at::Tensor hold(int64_t mb) { return at::ones({mb * 1024 * 1024 / 4}, at::kFloat); }
}  // namespace

TEST_CASE("memory meter: each phase's peak is its own; nested phases count in the outer one",
          "[core][memory]") {
  MemoryMeter meter;
  meter.begin_row();
  {
    auto big = meter.phase("big");
    at::Tensor t = hold(96);
    CHECK(t.sum().item<double>() > 0);
  }
  {
    auto small = meter.phase("small");
  }
  {
    auto outer = meter.phase("outer");
    {
      at::Tensor t = hold(96);  // freed before the inner phase resets the marks
      CHECK(t.sum().item<double>() > 0);
    }
    auto inner = meter.phase("inner");
  }
  const PhaseMemory* big = meter.find("big");
  const PhaseMemory* small = meter.find("small");
  const PhaseMemory* outer = meter.find("outer");
  const PhaseMemory* inner = meter.find("inner");
  REQUIRE(big);
  REQUIRE(small);
  REQUIRE(outer);
  REQUIRE(inner);
  INFO("big +" << big->host_added_mb << " small +" << small->host_added_mb << " outer +" << outer->host_added_mb
               << " inner +" << inner->host_added_mb);
  CHECK(big->host_added_mb >= 80.0);
  CHECK(small->host_added_mb < 40.0);   // big's peak does not leak into the next phase
  CHECK(outer->host_added_mb >= 80.0);  // the inner phase's reset did not hide the outer peak
  CHECK(inner->host_added_mb < 40.0);
  CHECK(meter.find("never") == nullptr);

  auto peaks = meter.peaks_mb();
  CHECK(peaks.at("big.host") == big->host_peak_mb);
  CHECK(peaks.at("host") >= big->host_peak_mb);
  CHECK(peaks.count("cuda") == 0);

  // A new row forgets the phases of the last one.
  meter.begin_row();
  CHECK(meter.find("big") == nullptr);
  CHECK(meter.peaks_mb().count("big.host") == 0);
}
