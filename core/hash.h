#pragma once
// SHA-256 (OpenSSL) of bytes and files, hex-encoded.

#include <filesystem>
#include <string>
#include <string_view>

namespace repro {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t n);
  void update(std::string_view s) { update(s.data(), s.size()); }
  std::string hex();  // finishes the digest

 private:
  void* ctx_;
};

std::string sha256_hex(std::string_view data);
// Hash of a file's bytes; missing file -> DataError. Cached by (path, size, mtime) for the process.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace repro
