#pragma once
// The results store: one JSON record per row at <root>/<paper>/<table>/<key>.json.
//
// Writes are atomic (temp file, fsync, rename, fsync of the folder): a crash leaves either the old
// state or the complete new record, never half a record. Leftover temp files (names starting with
// '.') are ignored, and those of dead writers are cleaned up on the next write to the folder.
//
// Every write is also journaled: one JSON line appended to <paper>/<table>/journal.jsonl (key, row,
// status, writer "host pid", finish time, whether the row was recomputed on purpose). The journal
// is an audit trail: `repro verify` uses it to prove that no row was computed twice by accident.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "core/record.h"

namespace repro {

// What `ResultStore::verify` found in a table's folder.
struct StoreCheck {
  size_t records = 0, ok = 0, errors = 0;  // readable record files, and how many are ok / error records
  size_t journal_lines = 0;
  std::vector<std::string> problems;       // one line each: unreadable or misnamed records, ...
  std::vector<std::string> computed_twice; // keys recorded ok more than once without --force
  std::vector<std::string> leftovers;      // temporary files of interrupted writers
  bool clean() const { return problems.empty() && computed_twice.empty(); }
};

class ResultStore {
 public:
  explicit ResultStore(std::filesystem::path root);

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path table_dir(const std::string& table_id) const;
  std::filesystem::path record_path(const std::string& table_id, const std::string& key) const;

  // The record under `key`, or nullopt when absent or unreadable (a truncated or foreign file is
  // treated as absent, so the row is recomputed).
  std::optional<Record> get(const std::string& table_id, const std::string& key) const;
  // `recomputed`: the row had a valid record and was recomputed on purpose (--force).
  void put(const Record& record, bool recomputed = false);
  // Identity of the record file under `key` (inode and modification time), or nullopt when absent:
  // changes with every put, so a process can tell that another one wrote the record meanwhile.
  std::optional<std::pair<uint64_t, int64_t>> stamp(const std::string& table_id, const std::string& key) const;
  std::filesystem::path journal_path(const std::string& table_id) const;
  // Checks a table's folder: every record file is readable and stored under its own key, and the
  // journal shows no row recorded ok twice except by an intended recomputation.
  StoreCheck verify(const std::string& table_id) const;
  // Every readable record of a table, sorted by row then finish time.
  std::vector<Record> list(const std::string& table_id) const;

 private:
  std::filesystem::path root_;
};


}  // namespace repro
