#include "core/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "core/error.h"

namespace repro {

namespace fs = std::filesystem;

namespace {
fs::path folder_of(const fs::path& path) { return path.has_parent_path() ? path.parent_path() : fs::path("."); }
}  // namespace

AtomicFileWriter::AtomicFileWriter(fs::path path) : path_(std::move(path)) {
  static std::atomic<int> counter{0};
  const fs::path dir = folder_of(path_);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw IoError(fmt::format("{}: cannot create folder ({})", dir.string(), ec.message()));
  tmp_ = dir / fmt::format(".{}.tmp-{}-{}", path_.filename().string(), ::getpid(), counter++);
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw IoError(fmt::format("{}: cannot create ({})", tmp_.string(), std::strerror(errno)));
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(tmp_.c_str());
}

void AtomicFileWriter::write(const void* data, size_t n) {
  REPRO_ASSERT(fd_ >= 0 && !committed_, "AtomicFileWriter::write after commit");
  const char* c = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd_, c, std::min<size_t>(n, size_t{1} << 30));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) throw IoError(fmt::format("{}: write failed ({})", path_.string(), std::strerror(errno)));
    c += w;
    n -= static_cast<size_t>(w);
  }
}

void AtomicFileWriter::commit() {
  REPRO_ASSERT(fd_ >= 0 && !committed_, "AtomicFileWriter::commit twice");
  const int rc_sync = ::fsync(fd_);
  const int err_sync = errno;
  const int rc_close = ::close(fd_);
  fd_ = -1;
  if (rc_sync != 0 || rc_close != 0)
    throw IoError(fmt::format("{}: fsync/close failed ({})", path_.string(), std::strerror(err_sync)));
  if (::rename(tmp_.c_str(), path_.c_str()) != 0)
    throw IoError(fmt::format("{}: cannot rename the temporary file into place ({})", path_.string(),
                              std::strerror(errno)));
  committed_ = true;
  const int dfd = ::open(folder_of(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void write_file_atomic(const fs::path& path, const std::string& content) {
  AtomicFileWriter w(path);
  w.write(content);
  w.commit();
}

size_t sweep_abandoned_temps(const fs::path& dir) {
  size_t removed = 0;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return 0;
  const auto now = fs::file_time_type::clock::now();
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    const auto at = name.rfind(".tmp-");
    if (at == std::string::npos) continue;
    const char* p = name.c_str() + at + 5;
    char* end = nullptr;
    const long pid = std::strtol(p, &end, 10);
    if (end == p || *end != '-' || pid <= 0) continue;  // not one of our temporary names
    std::error_code e2;
    const bool dead = pid != ::getpid() && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
    const bool stale = now - fs::last_write_time(e.path(), e2) > std::chrono::hours(24);
    if ((dead || (!e2 && stale)) && fs::remove(e.path(), e2)) ++removed;
  }
  return removed;
}

}  // namespace repro
