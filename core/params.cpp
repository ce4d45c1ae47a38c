#include "core/params.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/config.h"
#include "core/error.h"
#include "core/strings.h"

namespace repro {

std::string param_type_name(ParamType t) {
  switch (t) {
    case ParamType::Bool: return "bool";
    case ParamType::Int: return "int";
    case ParamType::Float: return "float";
    case ParamType::String: return "string";
    case ParamType::IntList: return "array of int";
    case ParamType::FloatList: return "array of float";
    case ParamType::StringList: return "array of string";
  }
  return "?";
}

bool is_list_type(ParamType t) {
  return t == ParamType::IntList || t == ParamType::FloatList || t == ParamType::StringList;
}

ParamSpec param_bool(std::string name, bool def, std::string doc) {
  return {std::move(name), ParamType::Bool, Value(def), std::move(doc), {}};
}
ParamSpec param_int(std::string name, int64_t def, std::string doc) {
  return {std::move(name), ParamType::Int, Value(def), std::move(doc), {}};
}
ParamSpec param_float(std::string name, double def, std::string doc) {
  return {std::move(name), ParamType::Float, Value(def), std::move(doc), {}};
}
ParamSpec param_string(std::string name, std::string def, std::string doc, std::vector<std::string> choices) {
  return {std::move(name), ParamType::String, Value(std::move(def)), std::move(doc), std::move(choices)};
}
ParamSpec param_required(std::string name, ParamType type, std::string doc) {
  return {std::move(name), type, Value(), std::move(doc), {}};
}
ParamSpec param_list(std::string name, ParamType type, Value::Array def, std::string doc) {
  return {std::move(name), type, Value(std::move(def)), std::move(doc), {}};
}

namespace {
bool coerce_scalar(const Value& in, ParamType t, Value& out) {
  switch (t) {
    case ParamType::Bool:
      if (!in.is_bool()) return false;
      out = Value(in.as_bool());
      return true;
    case ParamType::Int:
      if (!in.is_int()) return false;
      out = Value(in.as_int());
      return true;
    case ParamType::Float:
      if (!in.is_number()) return false;
      out = Value(in.as_float());
      return true;
    case ParamType::String:
      if (!in.is_string()) return false;
      out = Value(in.as_string());
      return true;
    default: return false;
  }
}
ParamType element_type(ParamType t) {
  switch (t) {
    case ParamType::IntList: return ParamType::Int;
    case ParamType::FloatList: return ParamType::Float;
    case ParamType::StringList: return ParamType::String;
    default: return t;
  }
}
}  // namespace

bool coerce_to(const Value& in, ParamType type, Value& out) {
  if (!is_list_type(type)) {
    bool ok = coerce_scalar(in, type, out);
    if (ok) out.set_loc(in.loc());
    return ok;
  }
  if (!in.is_array()) return false;
  Value::Array arr;
  for (const auto& e : in.as_array()) {
    Value c;
    if (!coerce_scalar(e, element_type(type), c)) return false;
    arr.push_back(std::move(c));
  }
  out = Value(std::move(arr));
  out.set_loc(in.loc());
  return true;
}

Params Params::validate(const Value& given, const std::vector<ParamSpec>& specs, const std::string& context) {
  Params p;
  p.context_ = context;
  static const Value kEmpty{Value::Table{}};
  const Value& table = given.is_null() ? kEmpty : given;
  if (!table.is_table())
    throw ConfigError(fmt::format("{}'{}': expected a table of parameters, got {}", loc_prefix(table), context,
                                  table.type_name()));
  std::vector<std::string> names;
  for (const auto& s : specs) names.push_back(s.name);
  for (const auto& [k, v] : table.as_table()) {
    bool known = false;
    for (const auto& s : specs) known = known || s.name == k;
    if (!known)
      throw ConfigError(fmt::format("{}unknown key '{}.{}'{}", loc_prefix(v), context, k, did_you_mean(k, names)));
  }
  for (const auto& s : specs) {
    const Value* v = table.find(s.name);
    if (!v) {
      if (s.required())
        throw ConfigError(fmt::format("{}key '{}.{}': missing (expected {}: {})", loc_prefix(table), context, s.name,
                                      param_type_name(s.type), s.doc));
      p.values_[s.name] = s.default_value;
      continue;
    }
    Value c;
    if (!coerce_to(*v, s.type, c))
      throw ConfigError(fmt::format("{}key '{}.{}': expected {}, got {} {}", loc_prefix(*v), context, s.name,
                                    param_type_name(s.type), v->type_name(), describe(*v)));
    if (!s.choices.empty() && s.type == ParamType::String) {
      const auto& str = c.as_string();
      if (std::find(s.choices.begin(), s.choices.end(), str) == s.choices.end())
        throw ConfigError(fmt::format("{}key '{}.{}': '{}' is not one of {}{}", loc_prefix(*v), context, s.name, str,
                                      join(s.choices, ", "), did_you_mean(str, s.choices)));
    }
    p.values_[s.name] = std::move(c);
  }
  return p;
}

const Value& Params::at(const std::string& name) const {
  auto it = values_.find(name);
  REPRO_ASSERT(it != values_.end(), "parameter '" + name + "' is not declared in " + context_);
  return it->second;
}

std::vector<int64_t> Params::get_int_list(const std::string& name) const {
  std::vector<int64_t> out;
  for (const auto& v : at(name).as_array()) out.push_back(v.as_int());
  return out;
}
std::vector<double> Params::get_float_list(const std::string& name) const {
  std::vector<double> out;
  for (const auto& v : at(name).as_array()) out.push_back(v.as_float());
  return out;
}
std::vector<std::string> Params::get_string_list(const std::string& name) const {
  std::vector<std::string> out;
  for (const auto& v : at(name).as_array()) out.push_back(v.as_string());
  return out;
}

std::string Params::where(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? "" : loc_prefix(it->second);
}

void Params::fail(const std::string& name, const std::string& message) const {
  throw ConfigError(fmt::format("{}key '{}{}{}': {}", where(name), context_, context_.empty() ? "" : ".", name, message));
}

std::string Params::canonical() const {
  std::string s;
  for (const auto& [k, v] : values_) {
    if (!s.empty()) s += ",";
    s += k + "=" + v.canonical();
  }
  return s;
}

Params& Params::set(const std::string& name, Value v) {
  values_[name] = std::move(v);
  return *this;
}

}  // namespace repro
