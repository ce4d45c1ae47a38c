#include "core/pipeline_spec.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "core/error.h"
#include "core/registry.h"
#include "core/strings.h"
#include "core/suite_registry.h"

namespace repro {

namespace {

// A recursive-descent reader over the spec text; every error names the column (1-based).
class SpecReader {
 public:
  explicit SpecReader(const std::string& text) : s_(text) {}

  Value::Array components() {
    Value::Array out;
    skip_space();
    if (at_end()) return out;
    for (;;) {
      out.push_back(component(/*nested=*/false));
      skip_space();
      if (at_end()) break;
      expect('+');
    }
    return out;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw ConfigError(fmt::format("pipeline '{}': {} at column {}", s_, what, pos_ + 1));
  }
  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[pos_]; }
  void skip_space() {
    while (!at_end() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) fail(at_end() ? fmt::format("expected '{}', got the end", c) : fmt::format("expected '{}', got '{}'", c, peek()));
    ++pos_;
  }
  static bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'; }

  std::string name() {
    skip_space();
    size_t b = pos_;
    while (!at_end() && name_char(s_[pos_])) ++pos_;
    if (b == pos_) fail(at_end() ? "expected a name, got the end" : fmt::format("expected a name, got '{}'", peek()));
    return s_.substr(b, pos_ - b);
  }

  // name or name(k=v,...) -> {method = name, k = v, ...}. A top-level component may omit the
  // parentheses; a nested one without them is a plain string (the slot accepts a bare name).
  Value component(bool nested) {
    std::string method = name();
    skip_space();
    if (peek() != '(') {
      if (nested) return Value(method);
      return Value(Value::Table{{"method", Value(method)}});
    }
    ++pos_;
    Value::Table t{{"method", Value(method)}};
    skip_space();
    if (peek() == ')') {
      ++pos_;
      return Value(std::move(t));
    }
    for (;;) {
      std::string key = name();
      if (key == "method") fail("'method' is not a parameter (the name before '(' is the method)");
      expect('=');
      if (t.count(key)) fail(fmt::format("parameter '{}' given twice in '{}'", key, method));
      t[key] = value();
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect(')');
      return Value(std::move(t));
    }
  }

  Value value() {
    skip_space();
    if (peek() == '[') {
      ++pos_;
      Value::Array a;
      skip_space();
      if (peek() == ']') {
        ++pos_;
        return Value(std::move(a));
      }
      for (;;) {
        a.push_back(value());
        skip_space();
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        expect(']');
        return Value(std::move(a));
      }
    }
    if (peek() == '"') {
      ++pos_;
      std::string out;
      while (!at_end() && s_[pos_] != '"') out += s_[pos_++];
      if (at_end()) fail("unterminated string");
      ++pos_;
      return Value(std::move(out));
    }
    // A bare token: up to the next delimiter at this level; "name(" starts a nested component.
    size_t b = pos_;
    while (!at_end() && (!std::strchr(",()[]+=\"", s_[pos_]) || exponent_sign())) ++pos_;
    std::string tok = trim(s_.substr(b, pos_ - b));
    if (peek() == '(') {
      pos_ = b;
      return component(/*nested=*/true);
    }
    if (tok.empty()) fail("expected a value");
    return scalar(tok);
  }

  // A '+' inside a float's exponent ("1e+20", as floats print) belongs to the token.
  bool exponent_sign() const {
    return s_[pos_] == '+' && pos_ >= 2 && (s_[pos_ - 1] == 'e' || s_[pos_ - 1] == 'E') &&
           std::isdigit(static_cast<unsigned char>(s_[pos_ - 2]));
  }

  static Value scalar(const std::string& tok) {
    if (tok == "true") return Value(true);
    if (tok == "false") return Value(false);
    const char* begin = tok.c_str();
    char* end = nullptr;
    errno = 0;
    long long i = std::strtoll(begin, &end, 10);
    if (*end == '\0' && errno == 0) return Value(static_cast<int64_t>(i));
    end = nullptr;
    double d = std::strtod(begin, &end);
    // Only decimal numbers: "inf"/"nan" and hex floats stay strings, as TOML would not take them bare.
    const bool numeric = std::isdigit(static_cast<unsigned char>(tok.back())) || tok.back() == '.';
    if (*end == '\0' && numeric) return Value(d);
    return Value(tok);
  }

  const std::string& s_;
  size_t pos_ = 0;
};

}  // namespace

Value::Array parse_pipeline_components(const std::string& spec) {
  if (trim(spec) == "dense") return {};
  return SpecReader(spec).components();
}

RowSpec pipeline_row(const std::string& spec, const std::string& suite, const Value::Table& suite_params,
                     const std::string& label) {
  const SuiteInfo* sinfo = SuiteRegistry::instance().find(suite);
  if (!sinfo) throw InternalError(fmt::format("pipeline_row: no suite '{}'", suite));

  Value::Table row{{"label", Value(label)}};
  for (Value& c : parse_pipeline_components(spec)) {
    const std::string method = c.find("method")->as_string();
    const ComponentSlot* slot = nullptr;
    std::vector<std::string> known;
    for (const ComponentSlot& s : sinfo->slots) {
      if (Catalog::instance().find(s.family, method)) {
        slot = &s;
        break;
      }
      for (auto& n : Catalog::instance().names(s.family)) known.push_back(n);
    }
    if (!slot)
      throw ConfigError(fmt::format("pipeline '{}': '{}' is not a method the {} suite runs{}; methods: {}", spec, method,
                                    suite, did_you_mean(method, known), join(known, ", ")));
    if (slot->list) {
      if (!row.count(slot->key)) row[slot->key] = Value(Value::Array{});
      row[slot->key].as_array().push_back(std::move(c));
    } else {
      if (row.count(slot->key))
        throw ConfigError(fmt::format("pipeline '{}': two {}s ('{}' and '{}'); a pipeline has at most one", spec,
                                      slot->key, row[slot->key].find("method")->as_string(), method));
      row[slot->key] = std::move(c);
    }
  }

  Value::Table root{{"table", Value(Value::Table{{"title", Value(label)}, {"suite", Value(suite)}})},
                    {"suite", Value(suite_params)},
                    {"rows", Value(Value::Array{Value(std::move(row))})}};
  TableSpec t = TableSpec::parse(Value(std::move(root)), "pipeline/" + label, {});
  if (t.rows.size() != 1)
    throw ConfigError(fmt::format("pipeline '{}' expands to {} rows ({}): a list value sweeps; give one value per parameter",
                                  spec, t.rows.size(), t.rows.back().display));
  return std::move(t.rows.front());
}

}  // namespace repro
