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

// Inputs that toml++ 3.3 (the Debian 12 package) cannot be given, found by fuzz/table_toml
// (fuzz/README.md). Each reaches undefined behaviour inside toml++ before it reports the error:
//  - a table header whose key starts with a character that cannot start a key ("[[" then a line
//    break, "[=]", "[[[x]]]"): parse_key's precondition is a TOML_ASSERT_ASSUME (an abort with
//    asserts on, an optimizer assumption in a clang release build); fixed upstream in
//    marzer/tomlplusplus pull 301;
//  - a non-ASCII character where toml++ tests for whitespace: outside strings and comments, and in
//    a multi-line basic string right after a backslash or after a line-ending backslash's blank
//    run; its non-ASCII whitespace table reaches TOML_UNREACHABLE for most code points from U+00A1
//    (marzer/tomlplusplus issues 190 and 295, fixed by pull 305);
//  - a '}' where an array expects a value ("[1, }"): parse_value's precondition is a
//    TOML_ASSERT_ASSUME that the character does not end a value;
//  - malformed dates and times ("1979-05-27T|": parse_time asserts a digit; "1979-05-25 9 ]"):
//    every date or time value is refused (configs have no use for them).
// TOML 1.0 allows none of them but a non-ASCII character after a line-ending backslash
// (toml.io/en/v1.0.0: bare keys, whitespace and every value outside strings are ASCII), so they
// are refused here first, with a line number.
class TomlGuard {
 public:
  TomlGuard(std::string_view text, const std::string& name) : text_(text), name_(name) {}

  // Follows toml++'s document loop: a statement starts at a line start outside strings and
  // brackets; a table header there is '[' or "[[", optional spaces or tabs, then a bare key
  // character, a quote, or ']' (which toml++ reports itself).
  void check() {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") i_ = 3;  // toml++ skips a UTF-8 byte order mark
    std::string open;  // the '[' and '{' open at i_, innermost last
    bool statement = true;
    char prev = 0;  // the last character outside blanks, comments and strings (a quote for a string)
    while (i_ < text_.size()) {
      const char c = text_[i_];
      if (c == '\n') {
        ++line_;
        ++i_;
        statement = statement || open.empty();
      } else if (c == ' ' || c == '\t' || c == '\r') {
        ++i_;
      } else if (c == '#') {
        while (i_ < text_.size() && text_[i_] != '\n') ++i_;
      } else if (c == '"' || c == '\'') {
        statement = false;
        prev = c;
        skip_string();
      } else {
        if (static_cast<unsigned char>(c) >= 0x80) fail("a non-ASCII character outside a string or comment");
        const bool header = statement && open.empty() && c == '[';
        if (header) check_header();
        statement = false;
        const bool in_array = !open.empty() && open.back() == '[';
        if (c == '}' && in_array) fail("'}' inside an array");
        if (std::string_view("[]{}=,.").find(c) == std::string_view::npos) {
          // A bare key segment or value. toml++ reads a value ahead up to a value terminator,
          // quotes and opening brackets included ("2['..."), testing each character for whitespace.
          const bool value = prev == '=' || (in_array && (prev == '[' || prev == ','));
          if (value && std::isdigit(static_cast<unsigned char>(c))) check_date_time();
          const std::string_view stops = value ? " \t\r\n]}#,=" : " \t\r\n]}#,=[{.\"'";
          size_t j = i_;
          for (; j < text_.size() && stops.find(text_[j]) == std::string_view::npos; ++j)
            if (static_cast<unsigned char>(text_[j]) >= 0x80) fail("a non-ASCII character outside a string or comment");
          prev = text_[j - 1];
          i_ = j;
          continue;
        }
        if (c == '[' || c == '{') open.push_back(header ? 'h' : c);  // 'h': a table header's brackets
        if ((c == ']' || c == '}') && !open.empty()) open.pop_back();
        prev = c;
        ++i_;
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw ConfigError(fmt::format("{}:{}: TOML syntax error: {}", name_, line_, what));
  }

  void check_header() const {
    size_t k = i_ + 1;
    if (k < text_.size() && text_[k] == '[') ++k;
    while (k < text_.size() && (text_[k] == ' ' || text_[k] == '\t')) ++k;
    if (k == text_.size()) return;
    const char c = text_[k];
    const auto b = static_cast<unsigned char>(c);
    if (std::isalnum(b) || c == '_' || c == '-' || c == '"' || c == '\'' || c == ']') return;
    fail(fmt::format("a table header must start with a key, saw {}",
                     b > 0x20 && b < 0x7F ? fmt::format("'{}'", c) : fmt::format("byte 0x{:02X}", b)));
  }

  // At the start of a value: a local date ("YYYY-MM-DD", alone or starting a date-time) or a local
  // time ("HH:MM"), or what starts like one, is refused before toml++ parses it. ReproBench configs
  // have no use for them (they are refused after parsing too), and toml++ 3.3 asserts on malformed
  // ones: "1979-05-27T" with no digit after the 'T' (parse_time), "1979-05-25 9 ]" and
  // "1978-04-;" (parse_value's value-terminator assumption).
  void check_date_time() const {
    const std::string_view v = text_.substr(i_, 10);
    const auto digits = [&](size_t from, size_t n) {
      if (v.size() < from + n) return false;
      for (size_t k = from; k < from + n; ++k)
        if (!std::isdigit(static_cast<unsigned char>(v[k]))) return false;
      return true;
    };
    // Prefixes too: toml++ takes "YYYY-" or "HH:" for the start of a date or time and asserts on
    // what does not complete it ("1978-04-;").
    const bool date = v.size() >= 5 && digits(0, 4) && v[4] == '-';
    const bool time = v.size() >= 3 && digits(0, 2) && v[2] == ':';
    if (date || time) fail("dates and times are not supported in ReproBench configs");
  }

  // Skips the string at i_ (a quote), counting line breaks. TOML 1.0 strings: "basic" with
  // backslash escapes, 'literal', and the multi-line forms """...""" and '''...''', whose closing
  // delimiter may follow up to two more quotes (toml.io/en/v1.0.0#string).
  void skip_string() {
    const char q = text_[i_];
    const bool multi = text_.substr(i_, 3) == std::string(3, q);
    i_ += multi ? 3 : 1;
    while (i_ < text_.size()) {
      const char c = text_[i_];
      if (c == '\\' && q == '"') {
        ++i_;
        const auto blank = [&] {
          return i_ < text_.size() && (text_[i_] == ' ' || text_[i_] == '\t' || text_[i_] == '\r' || text_[i_] == '\n');
        };
        // In a multi-line string toml++ tests what follows the backslash for whitespace, and so
        // every character of a line-ending backslash's blank run and the one after it.
        const bool line_ending = multi && blank();
        while (line_ending && blank()) line_ += text_[i_++] == '\n';
        if (multi && i_ < text_.size() && static_cast<unsigned char>(text_[i_]) >= 0x80)
          fail("a non-ASCII character right after a backslash or a line-ending backslash in a multi-line string "
               "(the TOML reader cannot take it there; write it as \\uXXXX)");
        if (!line_ending && i_ < text_.size() && text_[i_] != '\n') ++i_;  // the escaped character
      } else if (c == q) {
        size_t run = 0;
        while (i_ + run < text_.size() && text_[i_ + run] == q) ++run;
        if (!multi) run = 1;
        i_ += run;
        if (!multi || run >= 3) return;
      } else if (c == '\n') {
        if (!multi) return;  // an unclosed single-line string: toml++ reports it
        ++line_;
        ++i_;
      } else {
        ++i_;
      }
    }
  }

  std::string_view text_;
  const std::string& name_;
  size_t i_ = 0;
  int line_ = 1;
};

}  // namespace

Value parse_toml(const std::string& text, const std::string& name) {
  auto file = std::make_shared<const std::string>(name);
  TomlGuard(text, name).check();
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
