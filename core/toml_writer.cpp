#include "core/toml_writer.h"

#include <sstream>

#include <toml++/toml.h>

#include "core/error.h"

namespace repro {

namespace {

void insert(const Value& v, toml::table& parent, const std::string& key);

toml::table to_table(const Value& v) {
  toml::table t;
  for (const auto& [k, x] : v.as_table()) insert(x, t, k);
  return t;
}

toml::array to_array(const Value::Array& a) {
  toml::array out;
  for (const Value& e : a) {
    switch (e.type()) {
      case Value::Type::Bool: out.push_back(e.as_bool()); break;
      case Value::Type::Int: out.push_back(e.as_int()); break;
      case Value::Type::Float: out.push_back(e.as_float()); break;
      case Value::Type::String: out.push_back(e.as_string()); break;
      case Value::Type::Array: out.push_back(to_array(e.as_array())); break;
      case Value::Type::Table: out.push_back(to_table(e)); break;
      case Value::Type::Null: throw InternalError("to_toml: an array holds null");
    }
  }
  return out;
}

void insert(const Value& v, toml::table& parent, const std::string& key) {
  switch (v.type()) {
    case Value::Type::Null: return;
    case Value::Type::Bool: parent.insert_or_assign(key, v.as_bool()); return;
    case Value::Type::Int: parent.insert_or_assign(key, v.as_int()); return;
    case Value::Type::Float: parent.insert_or_assign(key, v.as_float()); return;
    case Value::Type::String: parent.insert_or_assign(key, v.as_string()); return;
    case Value::Type::Array: parent.insert_or_assign(key, to_array(v.as_array())); return;
    case Value::Type::Table: parent.insert_or_assign(key, to_table(v)); return;
  }
}

}  // namespace

std::string to_toml(const Value& table) {
  REPRO_ASSERT(table.is_table(), "to_toml: the root must be a table");
  std::ostringstream out;
  out << to_table(table) << "\n";
  return out.str();
}

}  // namespace repro
