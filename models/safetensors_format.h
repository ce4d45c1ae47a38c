#pragma once
// The safetensors file format without libtorch (fuzzers link this file alone):
//   [8 bytes: header length N, little-endian u64][N bytes: JSON header][data section]
// The header maps tensor names to {"dtype", "shape", "data_offsets": [begin, end)} (offsets
// relative to the data section) plus an optional "__metadata__" string -> string map.
//
// parse_header() validates everything and throws ModelError with one line naming the file and
// the tensor: a file shorter than 8 bytes, a header length beyond the file or above 100 MB,
// malformed JSON, an unknown dtype, a byte length that disagrees with shape x itemsize, offsets
// beyond the data section, overlapping tensors. Gaps between tensors are allowed.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace repro::safetensors {

enum class Dtype { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

std::optional<Dtype> dtype_from_string(std::string_view name);
std::string_view dtype_name(Dtype dtype);
size_t dtype_size(Dtype dtype);

inline constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

struct TensorInfo {
  std::string name;
  Dtype dtype = Dtype::F32;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte range in the data section
  int64_t numel() const;
};

struct Header {
  std::map<std::string, TensorInfo> tensors;
  std::map<std::string, std::string> metadata;
  uint64_t data_offset = 0;  // 8 + header length: where the data section starts in the file
};

// Parses and validates the header of a safetensors file whose bytes are data[0, file_size).
// `origin` (usually the path) starts every error message.
Header parse_header(const uint8_t* data, size_t file_size, const std::string& origin);

// A read-only private memory mapping of a whole file (ModelError when it cannot be opened).
class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }
  // Drops the pages of bytes [begin, end) from this process's resident set (madvise DONTNEED on
  // the whole pages that hold them): the kernel's page cache keeps them, a later read faults them
  // back in. Lets a reader stream a checkpoint larger than memory tensor by tensor.
  void drop_pages(size_t begin, size_t end) const;

 private:
  std::filesystem::path path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// One tensor to write: `nbytes` bytes of little-endian, C-contiguous data at `data`.
struct RawTensor {
  std::string name;
  Dtype dtype = Dtype::F32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  size_t nbytes = 0;
};

// Writes a safetensors file atomically (temp file in the same folder, fsync, rename). Tensors are
// laid out by decreasing itemsize, then name, after a header padded to 8 bytes, so every tensor is
// aligned. InternalError when a tensor's nbytes disagree with its shape; IoError on write failure.
void write_file(const std::filesystem::path& path, const std::vector<RawTensor>& tensors,
                const std::map<std::string, std::string>& metadata = {});

}  // namespace repro::safetensors
