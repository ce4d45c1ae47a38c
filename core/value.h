#pragma once
// Value: a typed tree (null, bool, int, float, string, array, table) that remembers where each
// node came from (file:line). Configs are parsed into it, method parameters are validated from
// it, and it prints canonically for specs and cache keys.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace repro {

struct SourceLoc {
  std::shared_ptr<const std::string> file;  // null when the value did not come from a file
  int line = 0;

  bool known() const { return file != nullptr; }
  // "paper_configs/x.toml:12", or "" when unknown.
  std::string str() const;
};

class Value {
 public:
  enum class Type { Null, Bool, Int, Float, String, Array, Table };
  using Array = std::vector<Value>;
  using Table = std::map<std::string, Value>;  // sorted keys: canonical printing for free

  Value() = default;
  Value(bool v) : data_(v) {}
  Value(int v) : data_(static_cast<int64_t>(v)) {}
  Value(int64_t v) : data_(v) {}
  Value(double v) : data_(v) {}
  Value(const char* v) : data_(std::string(v)) {}
  Value(std::string v) : data_(std::move(v)) {}
  Value(Array v) : data_(std::move(v)) {}
  Value(Table v) : data_(std::move(v)) {}

  Type type() const { return static_cast<Type>(data_.index()); }
  bool is_null() const { return type() == Type::Null; }
  bool is_bool() const { return type() == Type::Bool; }
  bool is_int() const { return type() == Type::Int; }
  bool is_float() const { return type() == Type::Float; }
  bool is_number() const { return is_int() || is_float(); }
  bool is_string() const { return type() == Type::String; }
  bool is_array() const { return type() == Type::Array; }
  bool is_table() const { return type() == Type::Table; }

  // Accessors throw InternalError on a type mismatch: check first, or use ConfigView for
  // user-facing access with good messages.
  bool as_bool() const;
  int64_t as_int() const;
  double as_float() const;  // ints promote
  const std::string& as_string() const;
  const Array& as_array() const;
  Array& as_array();
  const Table& as_table() const;
  Table& as_table();

  // Table lookup; null when absent or when this is not a table.
  const Value* find(const std::string& key) const;

  const SourceLoc& loc() const { return loc_; }
  Value& set_loc(SourceLoc loc) { loc_ = std::move(loc); return *this; }

  // "float", "array of string", ...
  std::string type_name() const;
  static std::string type_name(Type t);

  // Canonical text: 0.5, 1e-05, true, "text" is printed bare (text), [a,b], {k=v,...}.
  // Floats print in the shortest form that round-trips, so equal values print equally.
  std::string canonical() const;

  nlohmann::json to_json() const;
  static Value from_json(const nlohmann::json& j);

  bool operator==(const Value& other) const { return data_ == other.data_; }

 private:
  std::variant<std::monostate, bool, int64_t, double, std::string, Array, Table> data_;
  SourceLoc loc_;
};

}  // namespace repro
