// The IDX parser (datasets/image_formats.h, MNIST's format). An array that parses must round-trip
// byte for byte through encode_idx (the writer the tests and scripts use), and its dims must
// account for every value.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "datasets/image_formats.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  repro::fuzz::expect_clean([&] {
    const repro::IdxArray a = repro::parse_idx(bytes, "fuzz.idx");
    uint64_t count = 1;
    for (int64_t d : a.dims) count *= static_cast<uint64_t>(d);
    REPRO_FUZZ_CHECK(count == a.data.size());
    REPRO_FUZZ_CHECK(repro::encode_idx(a) == bytes);
  });
  return 0;
}
