#pragma once
// Helpers shared by tests: temporary folders, small files, a silent RunContext.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace repro {
class RunContext;
struct Record;
}  // namespace repro

namespace repro::test {

// A fresh folder under the system temp dir, removed when the object dies.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "repro");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

void write_text(const std::filesystem::path& path, const std::string& text);
std::string read_text(const std::filesystem::path& path);

// The source tree root (for committed fixtures such as models/zoo/micro).
std::filesystem::path source_root();

// A RunContext that logs errors only, shows no progress and has the given seed; one per seed, alive
// for the test program's lifetime.
RunContext& quiet_context(uint64_t seed = 0);

// The record whose label is `label` (a row's display label, sweep values included); fails the
// test when none has it.
const Record& record_labelled(const std::vector<Record>& records, const std::string& label);

}  // namespace repro::test
