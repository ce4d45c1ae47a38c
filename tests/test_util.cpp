#include "tests/test_util.h"

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>

#include "core/record.h"
#include "core/run_context.h"
#include "repro_build_info.h"
#include "tests/catch.h"

namespace repro::test {

TempDir::TempDir(const std::string& tag) {
  static std::atomic<int> counter{0};
  std::random_device rd;
  path_ = std::filesystem::temp_directory_path() / (tag + "-" + std::to_string(getpid()) + "-" +
                                                    std::to_string(counter++) + "-" + std::to_string(rd() % 100000));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::filesystem::path source_root() { return REPRO_SOURCE_DIR; }

RunContext& quiet_context(uint64_t seed) {
  static std::map<uint64_t, std::unique_ptr<RunContext>> contexts;
  auto& c = contexts[seed];
  if (!c) {
    RunOptions o;
    o.log_level = "error";
    o.progress = false;
    o.seed = seed;
    c = std::make_unique<RunContext>(o);
  }
  return *c;
}

const Record& record_labelled(const std::vector<Record>& records, const std::string& label) {
  for (const Record& r : records)
    if (r.label == label) return r;
  FAIL("no record labelled '" << label << "' among " << records.size());
  throw std::logic_error("unreachable");
}

}  // namespace repro::test
