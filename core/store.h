#pragma once
// The results store: one JSON record per row at <root>/<paper>/<table>/<key>.json.
//
// Writes are atomic (temp file, fsync, rename, fsync of the folder): a crash leaves either the old
// state or the complete new record, never half a record. Leftover temp files (names starting with
// '.') are ignored and cleaned up on the next write to the folder.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "core/record.h"

namespace repro {

class ResultStore {
 public:
  explicit ResultStore(std::filesystem::path root);

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path table_dir(const std::string& table_id) const;
  std::filesystem::path record_path(const std::string& table_id, const std::string& key) const;

  // The record under `key`, or nullopt when absent or unreadable (a truncated or foreign file is
  // treated as absent, so the row is recomputed).
  std::optional<Record> get(const std::string& table_id, const std::string& key) const;
  void put(const Record& record);
  // Every readable record of a table, sorted by row then finish time.
  std::vector<Record> list(const std::string& table_id) const;

 private:
  std::filesystem::path root_;
};


}  // namespace repro
