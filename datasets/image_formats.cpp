#include "datasets/image_formats.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>

#include <fmt/format.h>

#include "core/error.h"

namespace repro {
namespace fs = std::filesystem;

namespace {

constexpr uint8_t kIdxUnsignedByte = 0x08;

uint32_t read_be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

void append_be32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

std::string read_gzip_file(const fs::path& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw IoError(fmt::format("{}: cannot open ({})", path.string(), std::strerror(errno)));
  std::string out;
  char buf[1 << 16];
  for (;;) {
    const int n = gzread(f, buf, sizeof buf);
    if (n < 0) {
      int code = 0;
      const std::string why = gzerror(f, &code);
      gzclose(f);
      throw DataError(fmt::format("{}: corrupt gzip stream ({})", path.string(), why));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  gzclose(f);
  return out;
}

}  // namespace

std::string read_binary_file(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw DataError(fmt::format("{}: no such file", path.string()));
  const auto size = fs::file_size(path, ec);
  if (ec) throw IoError(fmt::format("{}: cannot read its size ({})", path.string(), ec.message()));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(fmt::format("{}: cannot open ({})", path.string(), std::strerror(errno)));
  std::string out(size, '\0');
  if (!in.read(out.data(), static_cast<std::streamsize>(size)) || in.gcount() != static_cast<std::streamsize>(size))
    throw IoError(fmt::format("{}: read failed after {} of {} bytes", path.string(), in.gcount(), size));
  return out;
}

IdxArray parse_idx(std::string_view bytes, const std::string& source) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 4 || p[0] != 0 || p[1] != 0)
    throw DataError(fmt::format("{}: not an IDX file (it must start with two zero bytes, a type and a rank)", source));
  if (p[2] != kIdxUnsignedByte)
    throw DataError(
        fmt::format("{}: IDX value type 0x{:02x} is not supported (only 0x08, unsigned byte)", source, p[2]));
  const size_t rank = p[3];
  if (rank == 0) throw DataError(fmt::format("{}: IDX rank 0 (no dimensions)", source));
  const size_t header = 4 + 4 * rank;
  if (bytes.size() < header)
    throw DataError(fmt::format("{}: {} bytes, shorter than its IDX header ({} bytes for rank {})", source,
                                bytes.size(), header, rank));
  IdxArray out;
  uint64_t count = 1;
  bool too_big = false;  // the product exceeds the file, so it cannot match (and is not computed further)
  for (size_t d = 0; d < rank; ++d) {
    const uint32_t n = read_be32(p + 4 + 4 * d);
    out.dims.push_back(n);
    if (too_big) continue;
    if (n != 0 && count > bytes.size() / n)
      too_big = true;
    else
      count *= n;
  }
  if (too_big || count != bytes.size() - header) {
    std::string dims;
    for (int64_t n : out.dims) dims += (dims.empty() ? "" : " x ") + std::to_string(n);
    throw DataError(
        fmt::format("{}: {} bytes, but its IDX header says {} unsigned bytes after a {}-byte header "
                    "(truncated or wrong file?)",
                    source, bytes.size(), dims, header));
  }
  out.data.assign(p + header, p + bytes.size());
  return out;
}

IdxArray read_idx_file(const fs::path& path) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return parse_idx(read_binary_file(path), path.string());
  fs::path gz = path;
  gz += ".gz";
  if (fs::is_regular_file(gz, ec)) return parse_idx(read_gzip_file(gz), gz.string());
  throw DataError(fmt::format("{}: no such file (nor {})", path.string(), gz.filename().string()));
}

std::string encode_idx(const IdxArray& array) {
  REPRO_ASSERT(!array.dims.empty() && array.dims.size() < 256, "encode_idx: rank must be 1..255");
  uint64_t count = 1;
  std::string out{'\0', '\0', static_cast<char>(kIdxUnsignedByte), static_cast<char>(array.dims.size())};
  for (int64_t n : array.dims) {
    REPRO_ASSERT(n >= 0 && n <= std::numeric_limits<uint32_t>::max(), "encode_idx: dimension out of range");
    append_be32(out, static_cast<uint32_t>(n));
    count *= static_cast<uint64_t>(n);
  }
  REPRO_ASSERT(count == array.data.size(), "encode_idx: data size does not match dims");
  out.append(reinterpret_cast<const char*>(array.data.data()), array.data.size());
  return out;
}

void parse_cifar(std::string_view bytes, const std::string& source, CifarLabel label, int64_t num_classes,
                 CifarRecords& out) {
  const size_t label_bytes = label == CifarLabel::kSingle ? 1 : 2;
  const size_t record = label_bytes + static_cast<size_t>(kCifarImageBytes);
  if (bytes.empty() || bytes.size() % record != 0)
    throw DataError(
        fmt::format("{}: {} bytes, not a positive multiple of the {}-byte {} record ({} label byte(s) + "
                    "3072 pixels); wrong file or truncated?",
                    source, bytes.size(), record, label_bytes == 1 ? "CIFAR-10" : "CIFAR-100", label_bytes));
  const size_t n = bytes.size() / record;
  const size_t which = label == CifarLabel::kFine ? 1 : 0;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  out.labels.reserve(out.labels.size() + n);
  out.pixels.reserve(out.pixels.size() + n * static_cast<size_t>(kCifarImageBytes));
  for (size_t i = 0; i < n; ++i) {
    const unsigned char* r = p + i * record;
    if (r[which] >= num_classes)
      throw DataError(fmt::format("{}: record {} has label {}, expected < {}", source, i, int{r[which]}, num_classes));
    out.labels.push_back(r[which]);
    out.pixels.insert(out.pixels.end(), r + label_bytes, r + record);
  }
  out.count += static_cast<int64_t>(n);
}

}  // namespace repro
