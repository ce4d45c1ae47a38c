#include "core/value.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace repro {

std::string SourceLoc::str() const {
  if (!file) return "";
  return line > 0 ? fmt::format("{}:{}", *file, line) : *file;
}

namespace {
[[noreturn]] void wrong(const Value& v, const char* want) {
  throw InternalError(fmt::format("Value accessed as {} but holds {}", want, v.type_name()));
}
}  // namespace

bool Value::as_bool() const {
  if (!is_bool()) wrong(*this, "bool");
  return std::get<bool>(data_);
}
int64_t Value::as_int() const {
  if (!is_int()) wrong(*this, "int");
  return std::get<int64_t>(data_);
}
double Value::as_float() const {
  if (is_int()) return static_cast<double>(std::get<int64_t>(data_));
  if (!is_float()) wrong(*this, "float");
  return std::get<double>(data_);
}
const std::string& Value::as_string() const {
  if (!is_string()) wrong(*this, "string");
  return std::get<std::string>(data_);
}
const Value::Array& Value::as_array() const {
  if (!is_array()) wrong(*this, "array");
  return std::get<Array>(data_);
}
Value::Array& Value::as_array() {
  if (!is_array()) wrong(*this, "array");
  return std::get<Array>(data_);
}
const Value::Table& Value::as_table() const {
  if (!is_table()) wrong(*this, "table");
  return std::get<Table>(data_);
}
Value::Table& Value::as_table() {
  if (!is_table()) wrong(*this, "table");
  return std::get<Table>(data_);
}

const Value* Value::find(const std::string& key) const {
  if (!is_table()) return nullptr;
  const auto& t = std::get<Table>(data_);
  auto it = t.find(key);
  return it == t.end() ? nullptr : &it->second;
}

std::string Value::type_name(Type t) {
  switch (t) {
    case Type::Null: return "nothing";
    case Type::Bool: return "bool";
    case Type::Int: return "int";
    case Type::Float: return "float";
    case Type::String: return "string";
    case Type::Array: return "array";
    case Type::Table: return "table";
  }
  return "?";
}

std::string Value::type_name() const {
  if (is_array() && !as_array().empty()) return "array of " + as_array().front().type_name();
  return type_name(type());
}

std::string Value::canonical() const {
  switch (type()) {
    case Type::Null: return "none";
    case Type::Bool: return as_bool() ? "true" : "false";
    case Type::Int: return std::to_string(as_int());
    case Type::Float: {
      return fmt::format("{}", as_float());
    }
    case Type::String: return as_string();
    case Type::Array: {
      std::string s = "[";
      for (size_t i = 0; i < as_array().size(); ++i) s += (i ? "," : "") + as_array()[i].canonical();
      return s + "]";
    }
    case Type::Table: {
      std::string s = "{";
      bool first = true;
      for (const auto& [k, v] : as_table()) {
        s += (first ? "" : ",") + k + "=" + v.canonical();
        first = false;
      }
      return s + "}";
    }
  }
  return "";
}

nlohmann::json Value::to_json() const {
  switch (type()) {
    case Type::Null: return nullptr;
    case Type::Bool: return as_bool();
    case Type::Int: return as_int();
    case Type::Float: return as_float();
    case Type::String: return as_string();
    case Type::Array: {
      auto j = nlohmann::json::array();
      for (const auto& v : as_array()) j.push_back(v.to_json());
      return j;
    }
    case Type::Table: {
      auto j = nlohmann::json::object();
      for (const auto& [k, v] : as_table()) j[k] = v.to_json();
      return j;
    }
  }
  return nullptr;
}

Value Value::from_json(const nlohmann::json& j) {
  if (j.is_null()) return Value();
  if (j.is_boolean()) return Value(j.get<bool>());
  if (j.is_number_integer()) return Value(j.get<int64_t>());
  if (j.is_number()) return Value(j.get<double>());
  if (j.is_string()) return Value(j.get<std::string>());
  if (j.is_array()) {
    Array a;
    for (const auto& e : j) a.push_back(from_json(e));
    return Value(std::move(a));
  }
  Table t;
  for (auto it = j.begin(); it != j.end(); ++it) t.emplace(it.key(), from_json(it.value()));
  return Value(std::move(t));
}

}  // namespace repro
