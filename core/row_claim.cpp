#include "core/row_claim.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "core/error.h"
#include "core/record.h"

namespace repro {

namespace fs = std::filesystem;

namespace {

fs::path claim_path(const fs::path& table_dir, const std::string& key) { return table_dir / ".claims" / (key + ".lock"); }

int open_lock(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw IoError(fmt::format("{}: cannot open the row claim ({})", path.string(), std::strerror(errno)));
  return fd;
}

// Whether `fd` still is the file at `path` (not an inode a releasing owner unlinked meanwhile).
bool still_linked(int fd, const fs::path& path) {
  struct stat a {}, b {};
  if (::fstat(fd, &a) != 0 || ::stat(path.c_str(), &b) != 0) return false;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace

std::string process_owner() {
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  return fmt::format("{} {}", host, ::getpid());
}

RowClaim::RowClaim(RowClaim&& other) noexcept : path_(std::move(other.path_)), fd_(other.fd_) { other.fd_ = -1; }

RowClaim& RowClaim::operator=(RowClaim&& other) noexcept {
  if (this != &other) {
    release();
    path_ = std::move(other.path_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

RowClaim::~RowClaim() { release(); }

void RowClaim::release() {
  if (fd_ < 0) return;
  // Unlink while still holding the lock, so no process can lock this inode and believe it current.
  ::unlink(path_.c_str());
  ::close(fd_);  // drops the flock
  fd_ = -1;
}

std::optional<RowClaim> RowClaim::try_claim(const fs::path& table_dir, const std::string& key) {
  const fs::path path = claim_path(table_dir, key);
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) throw IoError(fmt::format("{}: cannot create the claims folder ({})", path.parent_path().string(), ec.message()));
  for (int attempt = 0; attempt < 100; ++attempt) {
    int fd = open_lock(path);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) return std::nullopt;
      throw IoError(fmt::format("{}: cannot lock the row claim ({})", path.string(), std::strerror(err)));
    }
    if (!still_linked(fd, path)) {  // the previous owner released it between our open and flock
      ::close(fd);
      continue;
    }
    const std::string owner = fmt::format("{} {}\n", process_owner(), utc_timestamp());
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, owner.data(), owner.size(), 0) != static_cast<ssize_t>(owner.size())) {
      // The claim holds without its owner line; only `holder` loses information.
    }
    return RowClaim(path, fd);
  }
  throw IoError(fmt::format("{}: the row claim kept changing under us (100 attempts)", path.string()));
}

std::optional<std::string> RowClaim::holder(const fs::path& table_dir, const std::string& key) {
  const fs::path path = claim_path(table_dir, key);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<std::string> out;
  // Probing with a shared lock: it fails exactly when an owner holds the exclusive one.
  if (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
    char buf[512] = {};
    const ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    std::string line(buf, n > 0 ? static_cast<size_t>(n) : 0);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    out = line.empty() ? std::string("(owner unknown)") : line;
  }
  ::close(fd);
  return out;
}

}  // namespace repro
