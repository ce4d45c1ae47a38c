#include "core/store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/error.h"

namespace repro {

namespace fs = std::filesystem;

ResultStore::ResultStore(fs::path root) : root_(std::move(root)) {}

fs::path ResultStore::table_dir(const std::string& table_id) const { return root_ / table_id; }

fs::path ResultStore::record_path(const std::string& table_id, const std::string& key) const {
  return table_dir(table_id) / (key + ".json");
}

namespace {
std::optional<Record> read_record(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  try {
    return Record::from_json(j, p.string());
  } catch (const DataError&) {
    return std::nullopt;
  }
}
}  // namespace

std::optional<Record> ResultStore::get(const std::string& table_id, const std::string& key) const {
  auto r = read_record(record_path(table_id, key));
  if (r && r->key != key) return std::nullopt;  // a file copied under the wrong name
  return r;
}

void ResultStore::put(const Record& record) {
  fs::path dir = table_dir(record.table);
  // Clean up temp files left by a killed writer of this process's predecessors.
  std::error_code ec;
  if (fs::is_directory(dir, ec)) {
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      auto name = e.path().filename().string();
      if (name.size() > 1 && name[0] == '.' && name.find(".tmp-") != std::string::npos) {
        auto pid_start = name.rfind(".tmp-") + 5;
        auto pid = std::atoi(name.c_str() + pid_start);
        if (pid != getpid()) fs::remove(e.path(), ec);
      }
    }
  }
  write_file_atomic(record_path(record.table, record.key), record.to_json().dump(2) + "\n");
}

std::vector<Record> ResultStore::list(const std::string& table_id) const {
  std::vector<Record> out;
  std::error_code ec;
  fs::path dir = table_dir(table_id);
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    auto name = e.path().filename().string();
    if (name.empty() || name[0] == '.' || e.path().extension() != ".json") continue;
    if (auto r = read_record(e.path())) out.push_back(std::move(*r));
  }
  std::sort(out.begin(), out.end(), [](const Record& a, const Record& b) {
    return a.row != b.row ? a.row < b.row : a.finished_at < b.finished_at;
  });
  return out;
}

}  // namespace repro
