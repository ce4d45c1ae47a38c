#include "models/safetensors_format.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_text.h"

namespace repro::safetensors {
namespace {

static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

struct DtypeRow {
  Dtype dtype;
  const char* name;
  size_t size;
};
constexpr DtypeRow kDtypes[] = {
    {Dtype::F64, "F64", 8}, {Dtype::F32, "F32", 4}, {Dtype::F16, "F16", 2}, {Dtype::BF16, "BF16", 2},
    {Dtype::I64, "I64", 8}, {Dtype::I32, "I32", 4}, {Dtype::I16, "I16", 2}, {Dtype::I8, "I8", 1},
    {Dtype::U8, "U8", 1},   {Dtype::BOOL, "BOOL", 1},
};

std::string shape_str(const std::vector<int64_t>& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

[[noreturn]] void bad(const std::string& origin, const std::string& what) { throw ModelError(origin + ": " + what); }

}  // namespace

std::optional<Dtype> dtype_from_string(std::string_view name) {
  for (const auto& row : kDtypes) {
    if (name == row.name) return row.dtype;
  }
  return std::nullopt;
}

std::string_view dtype_name(Dtype dtype) {
  for (const auto& row : kDtypes) {
    if (row.dtype == dtype) return row.name;
  }
  return "?";
}

size_t dtype_size(Dtype dtype) {
  for (const auto& row : kDtypes) {
    if (row.dtype == dtype) return row.size;
  }
  return 0;
}

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Header parse_header(const uint8_t* data, size_t file_size, const std::string& origin) {
  if (file_size < 8)
    bad(origin, fmt::format("file is {} bytes, shorter than the 8-byte header length: not a safetensors file", file_size));
  uint64_t n = 0;
  std::memcpy(&n, data, 8);
  if (n > kMaxHeaderBytes)
    bad(origin, fmt::format("header length {} is above the {} MB limit: not a safetensors file, or corrupted", n,
                            kMaxHeaderBytes >> 20));
  if (n > file_size - 8)
    bad(origin, fmt::format("header length {} exceeds the file size {} (truncated file?)", n, file_size));

  std::string why;
  std::optional<nlohmann::json> parsed =
      parse_json_text(std::string_view(reinterpret_cast<const char*>(data) + 8, static_cast<size_t>(n)), &why);
  if (!parsed) bad(origin, fmt::format("header is not valid JSON ({})", why));
  nlohmann::json j = std::move(*parsed);
  if (!j.is_object()) bad(origin, "header is not a JSON object");

  Header h;
  h.data_offset = 8 + n;
  const uint64_t data_size = file_size - h.data_offset;
  for (const auto& [name, entry] : j.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) bad(origin, "__metadata__ is not an object of strings");
      for (const auto& [k, v] : entry.items()) {
        if (!v.is_string()) bad(origin, fmt::format("__metadata__['{}'] is not a string", k));
        h.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    const std::string where = fmt::format("tensor '{}'", name);
    if (!entry.is_object()) bad(origin, where + ": entry is not an object");
    if (!entry.contains("dtype") || !entry["dtype"].is_string()) bad(origin, where + ": missing or malformed 'dtype'");
    TensorInfo t;
    t.name = name;
    const std::string dtype = entry["dtype"].get<std::string>();
    auto dt = dtype_from_string(dtype);
    if (!dt)
      bad(origin, fmt::format("{}: unknown dtype '{}' (supported: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL)", where, dtype));
    t.dtype = *dt;
    if (!entry.contains("shape") || !entry["shape"].is_array()) bad(origin, where + ": missing or malformed 'shape'");
    for (const auto& d : entry["shape"]) {
      if (!d.is_number_unsigned()) bad(origin, where + ": 'shape' holds a value that is not a non-negative integer");
      t.shape.push_back(static_cast<int64_t>(std::min<uint64_t>(d.get<uint64_t>(), INT64_MAX)));
    }
    const auto& off = entry.contains("data_offsets") ? entry["data_offsets"] : nlohmann::json();
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      bad(origin, where + ": 'data_offsets' is not a pair of non-negative integers");
    t.begin = off[0].get<uint64_t>();
    t.end = off[1].get<uint64_t>();
    if (t.end < t.begin) bad(origin, fmt::format("{}: data_offsets [{}, {}) are reversed", where, t.begin, t.end));
    // Expected byte length, with overflow checks (a crafted shape must not wrap around).
    uint64_t bytes = dtype_size(t.dtype);
    bool overflow = false;
    for (int64_t d : t.shape) overflow |= __builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes);
    if (overflow || bytes != t.end - t.begin)
      bad(origin, fmt::format("{}: shape {} of {} needs {} bytes but data_offsets [{}, {}) hold {}", where,
                              shape_str(t.shape), dtype, overflow ? std::string("too many") : std::to_string(bytes),
                              t.begin, t.end, t.end - t.begin));
    if (t.end > data_size)
      bad(origin, fmt::format("{}: data_offsets [{}, {}) exceed the data section of {} bytes (file size {})", where,
                              t.begin, t.end, data_size, file_size));
    h.tensors.emplace(name, std::move(t));
  }

  std::vector<const TensorInfo*> by_offset;
  for (const auto& [name, t] : h.tensors) {
    if (t.end > t.begin) by_offset.push_back(&t);
  }
  std::sort(by_offset.begin(), by_offset.end(), [](const TensorInfo* a, const TensorInfo* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const TensorInfo& a = *by_offset[i - 1];
    const TensorInfo& b = *by_offset[i];
    if (b.begin < a.end)
      bad(origin, fmt::format("tensors '{}' [{}, {}) and '{}' [{}, {}) overlap", a.name, a.begin, a.end, b.name, b.begin,
                              b.end));
  }
  return h;
}

MappedFile::MappedFile(const std::filesystem::path& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw ModelError(fmt::format("{}: cannot open ({})", path.string(), std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw ModelError(fmt::format("{}: not a regular file", path.string()));
  }
  size_ = static_cast<size_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      throw ModelError(fmt::format("{}: cannot map into memory ({})", path.string(), std::strerror(err)));
    }
    data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

void MappedFile::drop_pages(size_t begin, size_t end) const {
  end = std::min(end, size_);
  if (!data_ || begin >= end) return;
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t first = begin / page * page, last = (end + page - 1) / page * page;
  // A private read-only mapping: the dropped pages are re-read from the file on the next access.
  ::madvise(const_cast<uint8_t*>(data_) + first, std::min(last, size_) - first, MADV_DONTNEED);
}

void write_file(const std::filesystem::path& path, const std::vector<RawTensor>& tensors,
                const std::map<std::string, std::string>& metadata) {
  std::vector<const RawTensor*> order;
  for (const RawTensor& t : tensors) {
    uint64_t bytes = dtype_size(t.dtype);
    for (int64_t d : t.shape) bytes *= static_cast<uint64_t>(d);
    if (bytes != t.nbytes)
      throw InternalError(fmt::format("safetensors write: tensor '{}' has {} bytes for shape {}", t.name, t.nbytes,
                                      shape_str(t.shape)));
    order.push_back(&t);
  }
  std::sort(order.begin(), order.end(), [](const RawTensor* a, const RawTensor* b) {
    const size_t sa = dtype_size(a->dtype), sb = dtype_size(b->dtype);
    return sa != sb ? sa > sb : a->name < b->name;
  });
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const RawTensor* t : order) {
    if (header.contains(t->name)) throw InternalError(fmt::format("safetensors write: tensor '{}' given twice", t->name));
    header[t->name] = {{"dtype", std::string(dtype_name(t->dtype))},
                       {"shape", t->shape},
                       {"data_offsets", {offset, offset + t->nbytes}}};
    offset += t->nbytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');

  AtomicFileWriter file(path);
  const uint64_t n = text.size();
  file.write(&n, 8);
  file.write(text);
  for (const RawTensor* t : order) file.write(t->data, t->nbytes);
  file.commit();
}

}  // namespace repro::safetensors
