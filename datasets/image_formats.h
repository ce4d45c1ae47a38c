#pragma once
// The two on-disk image formats of the classification sets ReproBench reads, parsed without
// libtorch (so a fuzz target links in seconds):
//
//  - IDX (LeCun's MNIST format, also Fashion-MNIST): 2 zero bytes, a type byte (0x08 = unsigned
//    byte, the only type these sets use), the number of dimensions, then each dimension as a
//    big-endian uint32, then the values in row-major order.
//  - CIFAR binary (https://www.cs.toronto.edu/~kriz/cifar.html): fixed-size records, each the
//    label byte(s) then 3072 pixel bytes, the red plane, the green plane, the blue plane, each 32x32
//    row-major. CIFAR-10 has one label byte; CIFAR-100 two (coarse label, then fine label).
//
// Every error is a DataError naming the file and what was expected.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace repro {

// An IDX array of unsigned bytes.
struct IdxArray {
  std::vector<int64_t> dims;  // e.g. {60000, 28, 28} for images, {60000} for labels
  std::vector<uint8_t> data;  // prod(dims) values, row-major
};

// Parses the bytes of an IDX file; `source` names it in messages. DataError when the magic is
// wrong, the type is not unsigned byte, or the size disagrees with the header.
IdxArray parse_idx(std::string_view bytes, const std::string& source);

// Reads `path`, or `path` + ".gz" (gzip, as the files are distributed) when `path` does not exist.
// DataError naming the path when neither exists or the content is malformed.
IdxArray read_idx_file(const std::filesystem::path& path);

// The IDX encoding of `array` (a header for dims, then data): what tests and scripts write.
std::string encode_idx(const IdxArray& array);

inline constexpr int64_t kCifarImageBytes = 3 * 32 * 32;

// CIFAR binary records, concatenated over the files read.
struct CifarRecords {
  int64_t count = 0;
  std::vector<uint8_t> labels;  // count values: the label of each record (CIFAR-100: the one chosen)
  std::vector<uint8_t> pixels;  // count * 3072 bytes, [count, 3, 32, 32] row-major
};

// Which label of a CIFAR-100 record to keep.
enum class CifarLabel { kSingle /* CIFAR-10: one label byte */, kCoarse, kFine };

// Appends the records of `bytes` (one file, named `source` in messages) to `out`. label_bytes is 1
// for CIFAR-10 and 2 for CIFAR-100. DataError when the size is not a positive multiple of the
// record size or a label is >= `num_classes`.
void parse_cifar(std::string_view bytes, const std::string& source, CifarLabel label, int64_t num_classes,
                 CifarRecords& out);

// Reads `path` whole. DataError "<path>: no such file" when it is missing, IoError when unreadable.
std::string read_binary_file(const std::filesystem::path& path);

}  // namespace repro
