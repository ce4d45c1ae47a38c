#include "core/config.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "core/error.h"
#include "core/strings.h"

namespace repro {

namespace {

Value convert(const toml::node& node, const std::shared_ptr<const std::string>& file) {
  Value out;
  if (auto t = node.as_table()) {
    Value::Table table;
    for (const auto& [k, v] : *t) table.emplace(std::string(k.str()), convert(v, file));
    out = Value(std::move(table));
  } else if (auto a = node.as_array()) {
    Value::Array arr;
    for (const auto& v : *a) arr.push_back(convert(v, file));
    out = Value(std::move(arr));
  } else if (auto s = node.as_string()) {
    out = Value(s->get());
  } else if (auto i = node.as_integer()) {
    out = Value(static_cast<int64_t>(i->get()));
  } else if (auto f = node.as_floating_point()) {
    out = Value(f->get());
  } else if (auto b = node.as_boolean()) {
    out = Value(b->get());
  } else {
    // Dates and times have no use in ReproBench configs.
    throw ConfigError(fmt::format("{}:{}: dates and times are not supported in ReproBench configs", *file,
                                  node.source().begin.line));
  }
  out.set_loc(SourceLoc{file, static_cast<int>(node.source().begin.line)});
  return out;
}

}  // namespace

Value parse_toml(const std::string& text, const std::string& name) {
  auto file = std::make_shared<const std::string>(name);
  try {
    toml::table t = toml::parse(text, name);
    Value v = convert(t, file);
    v.set_loc(SourceLoc{file, 0});
    return v;
  } catch (const toml::parse_error& e) {
    throw ConfigError(fmt::format("{}:{}: TOML syntax error: {}", name, e.source().begin.line, e.description()));
  }
}

Value load_toml_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw ConfigError(fmt::format("{}: config file not found", path.string()));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("{}: cannot open config file", path.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_toml(ss.str(), path.string());
}

std::string loc_prefix(const Value& v) {
  std::string s = v.loc().str();
  return s.empty() ? "" : s + ": ";
}

std::string describe(const Value& v) {
  if (v.is_string()) return "\"" + v.as_string() + "\"";
  std::string s = v.canonical();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

ConfigView::ConfigView(const Value& table, std::string path) : table_(&table), path_(std::move(path)) {
  REPRO_ASSERT(table.is_table(), "ConfigView over a " + table.type_name());
}

std::string ConfigView::child_path(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

std::string ConfigView::where(const std::string& key) const {
  const Value* v = table_->find(key);
  const Value& anchor = v ? *v : *table_;
  return fmt::format("{}key '{}'", loc_prefix(anchor), child_path(key));
}

void ConfigView::fail(const std::string& key, const std::string& message) const {
  throw ConfigError(where(key) + ": " + message);
}

void ConfigView::type_error(const std::string& key, const std::string& expected) const {
  const Value* v = table_->find(key);
  fail(key, fmt::format("expected {}, got {} {}", expected, v ? v->type_name() : "nothing", v ? describe(*v) : ""));
}

const Value& ConfigView::require(const std::string& key, const char* expected) const {
  const Value* v = table_->find(key);
  if (!v) fail(key, fmt::format("missing (expected {})", expected));
  return *v;
}

std::string ConfigView::get_string(const std::string& key) const {
  const Value& v = require(key, "string");
  if (!v.is_string()) type_error(key, "string");
  return v.as_string();
}
int64_t ConfigView::get_int(const std::string& key) const {
  const Value& v = require(key, "int");
  if (!v.is_int()) type_error(key, "int");
  return v.as_int();
}
double ConfigView::get_float(const std::string& key) const {
  const Value& v = require(key, "float");
  if (!v.is_number()) type_error(key, "float");
  return v.as_float();
}
bool ConfigView::get_bool(const std::string& key) const {
  const Value& v = require(key, "bool");
  if (!v.is_bool()) type_error(key, "bool");
  return v.as_bool();
}
ConfigView ConfigView::get_table(const std::string& key) const {
  const Value& v = require(key, "table");
  if (!v.is_table()) type_error(key, "table");
  return ConfigView(v, child_path(key));
}
const Value::Array& ConfigView::get_array(const std::string& key) const {
  const Value& v = require(key, "array");
  if (!v.is_array()) type_error(key, "array");
  return v.as_array();
}
std::vector<std::string> ConfigView::get_string_list(const std::string& key) const {
  const Value* v = table_->find(key);
  if (!v) return {};
  if (v->is_string()) return {v->as_string()};
  if (!v->is_array()) type_error(key, "array of string");
  std::vector<std::string> out;
  for (const auto& e : v->as_array()) {
    if (!e.is_string()) type_error(key, "array of string");
    out.push_back(e.as_string());
  }
  return out;
}

std::string ConfigView::get_string(const std::string& key, const std::string& fallback) const {
  return has(key) ? get_string(key) : fallback;
}
int64_t ConfigView::get_int(const std::string& key, int64_t fallback) const {
  return has(key) ? get_int(key) : fallback;
}
double ConfigView::get_float(const std::string& key, double fallback) const {
  return has(key) ? get_float(key) : fallback;
}
bool ConfigView::get_bool(const std::string& key, bool fallback) const {
  return has(key) ? get_bool(key) : fallback;
}
std::optional<ConfigView> ConfigView::find_table(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return get_table(key);
}

void ConfigView::check_keys(const std::vector<std::string>& allowed) const {
  for (const auto& [k, v] : table_->as_table()) {
    if (std::find(allowed.begin(), allowed.end(), k) != allowed.end()) continue;
    throw ConfigError(fmt::format("{}unknown key '{}'{}", loc_prefix(v), child_path(k), did_you_mean(k, allowed)));
  }
}

}  // namespace repro
