#pragma once
// Config files (TOML, via TOML++) and typed, user-facing access to them.
//
// Every error names the file and line, the full key path and what was expected, on one line:
//   paper_configs/examples/layer_error.toml:14: key 'rows[2].compressor.bits': expected int, got string "four"
//   paper_configs/examples/layer_error.toml:9: unknown key 'rows[0].compresor' (did you mean 'compressor'?)

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/value.h"

namespace repro {

// Parses a TOML file into a Value table. Missing file or a syntax error -> ConfigError.
Value load_toml_file(const std::filesystem::path& path);
// Parses TOML text; `name` is used as the file name in messages.
Value parse_toml(const std::string& text, const std::string& name);

// A read-only view of one table in a config, with its key path for messages.
class ConfigView {
 public:
  ConfigView(const Value& table, std::string path);

  const Value& value() const { return *table_; }
  const std::string& path() const { return path_; }
  bool has(const std::string& key) const { return table_->find(key) != nullptr; }
  const Value* find(const std::string& key) const { return table_->find(key); }

  // Required getters: absent or ill-typed -> ConfigError.
  std::string get_string(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  double get_float(const std::string& key) const;  // ints accepted
  bool get_bool(const std::string& key) const;
  ConfigView get_table(const std::string& key) const;
  const Value::Array& get_array(const std::string& key) const;
  std::vector<std::string> get_string_list(const std::string& key) const;

  // Optional getters: absent -> fallback; present but ill-typed -> ConfigError.
  std::string get_string(const std::string& key, const std::string& fallback) const;
  int64_t get_int(const std::string& key, int64_t fallback) const;
  double get_float(const std::string& key, double fallback) const;
  bool get_bool(const std::string& key, bool fallback) const;
  std::optional<ConfigView> find_table(const std::string& key) const;

  // Unknown keys are errors; the message suggests the closest allowed key.
  void check_keys(const std::vector<std::string>& allowed) const;

  // "<file>:<line>: key '<path.key>'" for building messages about a key of this table.
  std::string where(const std::string& key) const;
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;
  [[noreturn]] void type_error(const std::string& key, const std::string& expected) const;

  std::string child_path(const std::string& key) const;

 private:
  const Value& require(const std::string& key, const char* expected) const;

  const Value* table_;
  std::string path_;
};

// "file:line: " prefix for a value's location ("" when unknown).
std::string loc_prefix(const Value& v);
// A short quoted rendering of a value for error messages: "four", 3, [1,2].
std::string describe(const Value& v);

}  // namespace repro
