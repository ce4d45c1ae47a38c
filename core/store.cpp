#include "core/store.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/row_claim.h"

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


void ResultStore::put(const Record& record, bool recomputed) {
  fs::path dir = table_dir(record.table);
  sweep_abandoned_temps(dir);  // left by killed writers (never those of a live concurrent writer)
  write_file_atomic(record_path(record.table, record.key), record.to_json().dump(2) + "\n");
  // One write(2) of one line with O_APPEND: concurrent writers' lines never interleave.
  nlohmann::json line = {{"key", record.key},       {"row", record.row},           {"status", record.status},
                         {"writer", process_owner()}, {"finished_at", record.finished_at}, {"recomputed", recomputed}};
  const std::string text = line.dump() + "\n";
  const fs::path journal = journal_path(record.table);
  int fd = ::open(journal.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    // The record itself is in place; only the audit trail misses a line.
    spdlog::warn("{}: cannot append to the journal ({})", journal.string(), std::strerror(err));
    return;
  }
  ::close(fd);
}

std::optional<std::pair<uint64_t, int64_t>> ResultStore::stamp(const std::string& table_id, const std::string& key) const {
  struct stat st {};
  if (::stat(record_path(table_id, key).c_str(), &st) != 0) return std::nullopt;
  return std::make_pair(static_cast<uint64_t>(st.st_ino),
                        static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec);
}

StoreCheck ResultStore::verify(const std::string& table_id) const {
  StoreCheck c;
  std::error_code ec;
  const fs::path dir = table_dir(table_id);
  if (!fs::is_directory(dir, ec)) return c;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const auto name = e.path().filename().string();
    if (!name.empty() && name[0] == '.' && name.find(".tmp-") != std::string::npos) {
      c.leftovers.push_back(name);
      continue;
    }
    if (name.empty() || name[0] == '.' || e.path().extension() != ".json") continue;
    auto r = read_record(e.path());
    if (!r) {
      c.problems.push_back(fmt::format("{}: not a readable record", name));
      continue;
    }
    ++c.records;
    if (r->key != e.path().stem().string()) c.problems.push_back(fmt::format("{}: holds the record of key {}", name, r->key));
    if (r->table != table_id) c.problems.push_back(fmt::format("{}: a record of table {}", name, r->table));
    (r->ok() ? c.ok : c.errors) += 1;
  }
  std::ifstream in(journal_path(table_id));
  std::map<std::string, int> ok_writes;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object() || !j.contains("key")) {
      c.problems.push_back(fmt::format("journal line {}: not a journal entry", c.journal_lines + 1));
      ++c.journal_lines;
      continue;
    }
    ++c.journal_lines;
    if (j.value("status", "") != "ok") continue;
    const auto key = j["key"].get<std::string>();
    if (j.value("recomputed", false)) ok_writes[key] = 1;  // an intended recomputation starts afresh
    else if (++ok_writes[key] == 2) c.computed_twice.push_back(key);
  }
  return c;
}

fs::path ResultStore::journal_path(const std::string& table_id) const { return table_dir(table_id) / "journal.jsonl"; }

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
