// The CIFAR binary parser (datasets/image_formats.h). The first input byte picks the layout
// (CIFAR-10, CIFAR-100 coarse or fine labels), the rest is the file; it is parsed twice into the
// same CifarRecords (as a reader appends the five CIFAR-10 training files), and the records must
// hold the labels and pixels of the bytes, in order.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "datasets/image_formats.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static constexpr repro::CifarLabel kLayouts[] = {repro::CifarLabel::kSingle, repro::CifarLabel::kCoarse,
                                                   repro::CifarLabel::kFine};
  const repro::CifarLabel layout = kLayouts[data[0] % 3];
  const int64_t classes = layout == repro::CifarLabel::kSingle ? 10 : layout == repro::CifarLabel::kCoarse ? 20 : 100;
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  repro::fuzz::expect_clean([&] {
    repro::CifarRecords out;
    repro::parse_cifar(bytes, "fuzz.bin", layout, classes, out);
    repro::parse_cifar(bytes, "fuzz.bin", layout, classes, out);
    const size_t label_bytes = layout == repro::CifarLabel::kSingle ? 1 : 2;
    const size_t record = label_bytes + static_cast<size_t>(repro::kCifarImageBytes);
    const size_t n = bytes.size() / record;
    REPRO_FUZZ_CHECK(out.count == static_cast<int64_t>(2 * n) && out.labels.size() == 2 * n);
    REPRO_FUZZ_CHECK(out.pixels.size() == 2 * n * static_cast<size_t>(repro::kCifarImageBytes));
    for (size_t i = 0; i < 2 * n; ++i) {
      const char* r = bytes.data() + (i % n) * record;
      REPRO_FUZZ_CHECK(out.labels[i] == static_cast<uint8_t>(r[layout == repro::CifarLabel::kFine ? 1 : 0]));
      REPRO_FUZZ_CHECK(out.labels[i] < classes);
      REPRO_FUZZ_CHECK(std::memcmp(out.pixels.data() + i * repro::kCifarImageBytes, r + label_bytes,
                                   static_cast<size_t>(repro::kCifarImageBytes)) == 0);
    }
  });
  return 0;
}
