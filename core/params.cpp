#include "core/params.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/config.h"
#include "core/error.h"
#include "core/registry.h"
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
    case ParamType::Component: return "component";
  }
  return "?";
}

bool is_list_type(ParamType t) {
  return t == ParamType::IntList || t == ParamType::FloatList || t == ParamType::StringList;
}

namespace {
ParamSpec make_spec(std::string name, ParamType type, Value def, std::string doc) {
  ParamSpec s;
  s.name = std::move(name);
  s.type = type;
  s.default_value = std::move(def);
  s.doc = std::move(doc);
  return s;
}
}  // namespace

ParamSpec param_bool(std::string name, bool def, std::string doc) {
  return make_spec(std::move(name), ParamType::Bool, Value(def), std::move(doc));
}
ParamSpec param_int(std::string name, int64_t def, std::string doc) {
  return make_spec(std::move(name), ParamType::Int, Value(def), std::move(doc));
}
ParamSpec param_float(std::string name, double def, std::string doc) {
  return make_spec(std::move(name), ParamType::Float, Value(def), std::move(doc));
}
ParamSpec param_string(std::string name, std::string def, std::string doc, std::vector<std::string> choices) {
  ParamSpec s = make_spec(std::move(name), ParamType::String, Value(std::move(def)), std::move(doc));
  s.choices = std::move(choices);
  return s;
}
ParamSpec param_required(std::string name, ParamType type, std::string doc) {
  return make_spec(std::move(name), type, Value(), std::move(doc));
}
ParamSpec param_list(std::string name, ParamType type, Value::Array def, std::string doc) {
  return make_spec(std::move(name), type, Value(std::move(def)), std::move(doc));
}
ParamSpec param_component(std::string name, std::string family, std::string def, std::string doc) {
  ParamSpec s = make_spec(std::move(name), ParamType::Component, Value(std::move(def)), std::move(doc));
  s.family = std::move(family);
  return s;
}

ParamSpec& ParamSpec::range(double lo, double hi) {
  min = lo;
  max = hi;
  return *this;
}
ParamSpec& ParamSpec::at_least(double lo) {
  min = lo;
  return *this;
}
ParamSpec& ParamSpec::above(double lo) {
  min = lo;
  min_exclusive = true;
  return *this;
}
ParamSpec& ParamSpec::at_most(double hi) {
  max = hi;
  return *this;
}
ParamSpec& ParamSpec::below(double hi) {
  max = hi;
  max_exclusive = true;
  return *this;
}
ParamSpec& ParamSpec::or_value(double v) {
  also.push_back(v);
  return *this;
}

bool ParamSpec::accepts(double v) const {
  for (double a : also)
    if (v == a) return true;
  if (min && (min_exclusive ? !(v > *min) : !(v >= *min))) return false;
  if (max && (max_exclusive ? !(v < *max) : !(v <= *max))) return false;
  return true;
}

std::string ParamSpec::constraint() const {
  auto num = [](double v) { return Value(v).canonical(); };
  std::string s;
  if (min && max) {
    s = fmt::format("in {}{}, {}{}", min_exclusive ? "(" : "[", num(*min), num(*max), max_exclusive ? ")" : "]");
  } else if (min) {
    s = fmt::format("{} {}", min_exclusive ? ">" : ">=", num(*min));
  } else if (max) {
    s = fmt::format("{} {}", max_exclusive ? "<" : "<=", num(*max));
  }
  for (double a : also) s += (s.empty() ? "" : " or ") + num(a);
  if (!choices.empty()) s += (s.empty() ? "one of " : ", one of ") + join(choices, "|");
  if (type == ParamType::Component) s += (s.empty() ? "a " : ", a ") + family;
  return s;
}

std::string ComponentParams::canonical() const { return method + "(" + (params ? params->canonical() : "") + ")"; }

std::vector<std::string> ComponentParams::versions() const {
  std::vector<std::string> out{method + "@" + (info ? info->version : "?")};
  if (params)
    for (auto& v : params->component_versions()) out.push_back(std::move(v));
  return out;
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

namespace {

// A number outside the spec's range (for lists: any element) -> ConfigError at the value.
void check_range(const ParamSpec& s, const Value& c, const Value& given, const std::string& context) {
  if (!s.min && !s.max) return;
  auto check = [&](const Value& e) {
    if (!e.is_number() || s.accepts(e.as_float())) return;
    throw ConfigError(fmt::format("{}key '{}.{}': {} is out of range (must be {})", loc_prefix(given), context,
                                  s.name, e.canonical(), s.constraint()));
  };
  if (c.is_array()) {
    for (const auto& e : c.as_array()) check(e);
  } else {
    check(c);
  }
}

}  // namespace

// A component given as a name or as a table with 'method': the plugin must exist in the spec's
// family; its own parameters are validated (recursively), then the plugin's validator runs.
ComponentParams Params::validate_component(const Value& v, const ParamSpec& s, const std::string& context) {
  const std::string path = context + "." + s.name;
  ComponentParams out;
  out.family = s.family;
  Value params{Value::Table{}};
  params.set_loc(v.loc());
  if (v.is_string()) {
    out.method = v.as_string();
  } else if (v.is_table()) {
    const Value* m = v.find("method");
    if (!m || !m->is_string())
      throw ConfigError(fmt::format("{}key '{}': a component table needs 'method = \"<{} name>\"'", loc_prefix(v),
                                    path, s.family));
    out.method = m->as_string();
    for (const auto& [k, e] : v.as_table())
      if (k != "method") params.as_table()[k] = e;
  } else {
    throw ConfigError(fmt::format("{}key '{}': expected a {} name or a table with 'method', got {} {}", loc_prefix(v),
                                  path, s.family, v.type_name(), describe(v)));
  }
  out.info = Catalog::instance().find(s.family, out.method);
  if (!out.info) {
    auto known = Catalog::instance().names(s.family);
    throw ConfigError(fmt::format("{}key '{}': unknown {} '{}'{}; registered: {}", loc_prefix(v), path, s.family,
                                  out.method, did_you_mean(out.method, known),
                                  known.empty() ? "(none)" : join(known, ", ")));
  }
  auto nested = std::make_shared<Params>(validate(params, out.info->params, path));
  Catalog::instance().check(*out.info, *nested);
  out.params = std::move(nested);
  return out;
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
      if (s.type == ParamType::Component) {
        Value def = s.default_value;
        def.set_loc(table.loc());
        p.components_[s.name] = validate_component(def, s, context);
        p.values_[s.name] = Value(p.components_[s.name].canonical());
        continue;
      }
      p.values_[s.name] = s.default_value;
      continue;
    }
    Value c;
    if (s.type != ParamType::Component && !coerce_to(*v, s.type, c))
      throw ConfigError(fmt::format("{}key '{}.{}': expected {}, got {} {}", loc_prefix(*v), context, s.name,
                                    param_type_name(s.type), v->type_name(), describe(*v)));
    if (s.type == ParamType::Component) {
      p.components_[s.name] = validate_component(*v, s, context);
      p.values_[s.name] = Value(p.components_[s.name].canonical()).set_loc(v->loc());
      continue;
    }
    check_range(s, c, *v, context);
    if (!s.choices.empty() && s.type == ParamType::String) {
      const auto& str = c.as_string();
      if (std::find(s.choices.begin(), s.choices.end(), str) == s.choices.end())
        throw ConfigError(fmt::format("{}key '{}.{}': '{}' is not one of {}{}", loc_prefix(*v), context, s.name, str,
                                      join(s.choices, ", "), did_you_mean(str, s.choices)));
    }
    p.values_[s.name] = std::move(c);
  }
  for (const auto& s : specs)
    if (s.quiet_default && s.type != ParamType::Component && p.values_.at(s.name) == s.default_value)
      p.quiet_.insert(s.name);
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

const ComponentParams& Params::get_component(const std::string& name) const {
  auto it = components_.find(name);
  REPRO_ASSERT(it != components_.end(), "parameter '" + name + "' is not a component of " + context_);
  return it->second;
}

std::vector<std::string> Params::component_versions() const {
  std::vector<std::string> out;
  for (const auto& [name, c] : components_)
    for (auto& v : c.versions()) out.push_back(std::move(v));
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
    if (quiet_.count(k)) continue;
    if (!s.empty()) s += ",";
    s += k + "=" + v.canonical();
  }
  return s;
}

Params& Params::set(const std::string& name, Value v) {
  REPRO_ASSERT(!components_.count(name), "Params::set cannot replace component '" + name + "'");
  values_[name] = std::move(v);
  quiet_.erase(name);
  return *this;
}

}  // namespace repro
