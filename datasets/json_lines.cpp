#include "datasets/json_lines.h"

#include <zlib.h>

#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_text.h"

namespace repro {
namespace fs = std::filesystem;

namespace {

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

[[noreturn]] void gz_fail(const fs::path& path, gzFile f) {
  int code = 0;
  const char* msg = gzerror(f, &code);
  throw DataError(fmt::format("{}: cannot read ({}; a truncated or corrupt .gz file?)", path.string(),
                              msg && *msg ? msg : "unknown zlib error"));
}

}  // namespace

std::string file_line(const fs::path& path, size_t line_number) {
  return fmt::format("{}:{}", path.string(), line_number);
}

void for_each_line(const fs::path& path, const std::function<bool(std::string_view, size_t)>& fn) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    throw DataError(fmt::format("{}: file not found", path.string()));
  std::unique_ptr<gzFile_s, GzCloser> file(gzopen(path.c_str(), "rb"));
  if (!file) throw DataError(fmt::format("{}: cannot open file", path.string()));
  // 64 KB reads (zlib's own buffers: 32 KB in, 64 KB out) stream a multi-GB shard as fast as
  // larger ones, and keep the cost per file small: the 1 MB + 768 KB this took before were fresh
  // pages for every file read, which made the JSON-lines fuzz target page-fault bound (fuzz/README.md).
  gzbuffer(file.get(), 1 << 15);

  std::vector<char> buf(1 << 16);
  std::string pending;  // the part of a line that straddles two reads
  size_t line_number = 0;
  auto emit = [&](std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return fn(line, ++line_number);
  };
  for (;;) {
    int n = gzread(file.get(), buf.data(), static_cast<unsigned>(buf.size()));
    if (n < 0) gz_fail(path, file.get());
    if (n == 0) break;
    std::string_view chunk(buf.data(), static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = chunk.find('\n', start)) != std::string_view::npos; start = nl + 1) {
      bool go_on;
      if (pending.empty()) {
        go_on = emit(chunk.substr(start, nl - start));
      } else {
        pending.append(chunk.substr(start, nl - start));
        go_on = emit(pending);
        pending.clear();
      }
      if (!go_on) return;
    }
    pending.append(chunk.substr(start));
  }
  // gzread returns 0 both at the end and after some errors (e.g. a truncated stream).
  int code = Z_OK;
  gzerror(file.get(), &code);
  if (code != Z_OK && code != Z_STREAM_END) gz_fail(path, file.get());
  if (!pending.empty()) emit(pending);
}

void for_each_json_line(const fs::path& path, const std::function<bool(const nlohmann::json&, size_t)>& fn) {
  for_each_line(path, [&](std::string_view line, size_t line_number) {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) return true;
    std::string why;
    const std::optional<nlohmann::json> record = parse_json_text(line, &why);
    if (!record) throw DataError(fmt::format("{}: not valid JSON ({})", file_line(path, line_number), why));
    return fn(*record, line_number);
  });
}

}  // namespace repro
