#pragma once
// Row claims: a process that is computing a row holds a claim on it, so that concurrent processes
// working on one table (two terminals, a cluster job array and a user) split the rows instead of
// computing each twice.
//
// A claim is an flock(2) on <table folder>/.claims/<key>.lock, a file that also names its owner
// ("host pid started-at") for `repro status` and log messages. The kernel drops the lock when its
// process exits however it exits (SIGKILL included), so a claim left by a dead process is simply
// free: the next process takes it over without any staleness heuristic. On NFS, Linux implements
// flock with NFS byte-range locks, so claims also work across the nodes of a cluster.
//
// The lock file is removed when a claim is released. A process that opened the file just before it
// was removed would lock an orphaned inode; try_claim() therefore checks, after locking, that the
// path still names the inode it locked, and retries otherwise.

#include <filesystem>
#include <optional>
#include <string>

namespace repro {

class RowClaim {
 public:
  RowClaim() = default;
  RowClaim(RowClaim&& other) noexcept;
  RowClaim& operator=(RowClaim&& other) noexcept;
  RowClaim(const RowClaim&) = delete;
  RowClaim& operator=(const RowClaim&) = delete;
  ~RowClaim();

  // Claims `key` under `table_dir`, or returns nullopt when another live process holds it.
  // IoError when the claims folder cannot be created or the lock file opened.
  static std::optional<RowClaim> try_claim(const std::filesystem::path& table_dir, const std::string& key);
  // The owner line ("host pid started-at") of a held claim, or nullopt when the key is not claimed.
  static std::optional<std::string> holder(const std::filesystem::path& table_dir, const std::string& key);

  bool held() const { return fd_ >= 0; }
  void release();

 private:
  RowClaim(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::filesystem::path path_;
  int fd_ = -1;
};

// "<host> <pid>" of this process, as claims and journals name it.
std::string process_owner();

}  // namespace repro
