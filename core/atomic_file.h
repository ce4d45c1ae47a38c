#pragma once
// Files that appear whole or not at all: written to a temporary file in the target's folder,
// flushed with fsync, renamed over the target, and the folder fsync'ed. A crash or an error leaves
// either the old file or the new one, never a mix, and no temporary file behind (a crash may leave
// a ".<name>.tmp-<pid>-<n>" file, which ResultStore sweeps).
//
// Free of libtorch, so that parsers and writers linked into fuzz targets can use it.

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace repro {

class AtomicFileWriter {
 public:
  // Creates the folder if needed and opens the temporary file. IoError when it cannot.
  explicit AtomicFileWriter(std::filesystem::path path);
  // Removes the temporary file unless commit() succeeded.
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  // Appends n bytes (retries short writes and EINTR). IoError naming the target on failure.
  void write(const void* data, size_t n);
  void write(std::string_view text) { write(text.data(), text.size()); }
  // fsync, rename into place, fsync the folder. IoError on failure (the target is then unchanged).
  void commit();

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_, tmp_;
  int fd_ = -1;
  bool committed_ = false;
};

// Writes `content` to `path` atomically.
void write_file_atomic(const std::filesystem::path& path, const std::string& content);

// Removes the temporary files that killed writers left in `dir`: names holding ".tmp-<pid>-<n>"
// (AtomicFileWriter's, and the plot renderer's) whose process no longer exists on this host, or
// that are a day old (a writer on another node of a shared file system). Never those of live
// writers. Returns how many were removed; errors are ignored (another process may sweep too).
size_t sweep_abandoned_temps(const std::filesystem::path& dir);

}  // namespace repro
