// The safetensors header parser (models/safetensors_format.h) on arbitrary file bytes. Beyond
// "no crash": a header that parses must describe tensors that lie inside the file, so the reader
// may copy them without further checks; the target reads every tensor's bytes to prove it (the
// input is an exactly sized heap buffer, so AddressSanitizer reports a range past its end).
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_util.h"
#include "models/safetensors_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace st = repro::safetensors;
  repro::fuzz::expect_clean([&] {
    const st::Header h = st::parse_header(data, size, "fuzz.safetensors");
    REPRO_FUZZ_CHECK(h.data_offset >= 8 && h.data_offset <= size);
    uint64_t checksum = 0;
    for (const auto& [name, t] : h.tensors) {
      REPRO_FUZZ_CHECK(name == t.name);
      REPRO_FUZZ_CHECK(t.begin <= t.end && t.end <= size - h.data_offset);
      // numel() x itemsize is the byte length (parse_header rejected shapes whose product overflows).
      REPRO_FUZZ_CHECK(static_cast<uint64_t>(t.numel()) * st::dtype_size(t.dtype) == t.end - t.begin);
      for (uint64_t i = t.begin; i < t.end; ++i) checksum += data[h.data_offset + i];
    }
    // Keep the reads (the compiler may not drop them).
    volatile uint64_t sink = checksum;
    (void)sink;
  });
  return 0;
}
