#include "core/config.h"

#include <algorithm>
#include <cctype>
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

// Skips the string that starts at text[i] (a quote), counting line breaks; returns the index past it
// (or the end of the text when it is not closed). TOML 1.0 strings: "basic" with backslash escapes,
// 'literal', and their multi-line forms """...""" and '''...''', whose closing delimiter may be
// preceded by up to two more quotes (toml.io/en/v1.0.0#string).
size_t skip_toml_string(std::string_view text, size_t i, int& line) {
  const char q = text[i];
  const bool multi = text.substr(i, 3) == std::string(3, q);
  i += multi ? 3 : 1;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\\' && q == '"') {
      if (i + 1 < text.size() && text[i + 1] == '\n') ++line;
      i += 2;
    } else if (c == q) {
      if (!multi) return i + 1;
      size_t run = 0;
      while (i + run < text.size() && text[i + run] == q) ++run;
      if (run >= 3) return i + run;
      i += run;
    } else if (c == '\n') {
      ++line;
      if (!multi) return i + 1;  // an unclosed single-line string: toml++ reports it
      ++i;
    } else {
      ++i;
    }
  }
  return std::min(i, text.size());
}

// toml++ 3.3 enters its key parser from a table header without checking that a key starts there,
// under an assertion (TOML_ASSERT_ASSUME: an abort in a build with asserts, an optimizer assumption
// in a clang release build): "[[" then a line break, "[=]" or "[[[x]]]" reach it. Fixed upstream in
// marzer/tomlplusplus pull 301; until every toml++ this builds with has the fix, such headers are
// refused here first. The scan follows toml++'s document loop: a statement starts at a line start
// outside strings and brackets; a header there is '[' or "[[" (no space between), optional spaces or
// tabs, then a bare key character, a quote, or ']' (which toml++ reports itself).
void check_toml_table_headers(std::string_view text, const std::string& name) {
  const auto key_start = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '"' || c == '\'';
  };
  const auto skip_blank = [&](size_t i) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    return i;
  };
  size_t i = text.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;  // toml++ skips a UTF-8 byte order mark
  int line = 1;
  int depth = 0;  // open '[' and '{' of values
  bool statement = true;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      ++i;
      statement = statement || depth == 0;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r') {
      ++i;
      continue;
    }
    if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
      continue;
    }
    if (c == '"' || c == '\'') {
      statement = false;
      i = skip_toml_string(text, i, line);
      continue;
    }
    if (statement && depth == 0 && c == '[') {
      size_t k = i + 1;
      if (k < text.size() && text[k] == '[') ++k;
      k = skip_blank(k);
      if (k < text.size() && text[k] != ']' && !key_start(text[k])) {
        const auto b = static_cast<unsigned char>(text[k]);
        throw ConfigError(fmt::format("{}:{}: TOML syntax error: a table header must start with a key, saw {}", name,
                                      line, b > 0x20 && b < 0x7F ? fmt::format("'{}'", text[k])
                                                                 : fmt::format("byte 0x{:02X}", b)));
      }
    }
    statement = false;
    if (c == '[' || c == '{') ++depth;
    if ((c == ']' || c == '}') && depth > 0) --depth;
    ++i;
  }
}

}  // namespace

Value parse_toml(const std::string& text, const std::string& name) {
  auto file = std::make_shared<const std::string>(name);
  check_toml_table_headers(text, name);
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
