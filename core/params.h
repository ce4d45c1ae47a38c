#pragma once
// Typed, validated parameters of a method or suite.
//
// A plugin declares its parameters as ParamSpecs (name, type, default, one-line doc). A Params is
// built from a config table by validate(): unknown keys and ill-typed values are ConfigErrors that
// name file:line and key; absent keys take their defaults; ints are accepted for floats.

#include <cstdint>
#include <string>
#include <vector>

#include "core/value.h"

namespace repro {

enum class ParamType { Bool, Int, Float, String, IntList, FloatList, StringList };

std::string param_type_name(ParamType t);
bool is_list_type(ParamType t);

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::Float;
  Value default_value;               // null: the parameter is required
  std::string doc;                   // one line
  std::vector<std::string> choices;  // for strings: allowed values (empty: any)

  bool required() const { return default_value.is_null(); }
};

// Helpers for declaring specs tersely in plugins.
ParamSpec param_bool(std::string name, bool def, std::string doc);
ParamSpec param_int(std::string name, int64_t def, std::string doc);
ParamSpec param_float(std::string name, double def, std::string doc);
ParamSpec param_string(std::string name, std::string def, std::string doc, std::vector<std::string> choices = {});
ParamSpec param_required(std::string name, ParamType type, std::string doc);
ParamSpec param_list(std::string name, ParamType type, Value::Array def, std::string doc);

class Params {
 public:
  Params() = default;

  // Validates `given` (a table; null means empty) against `specs`. `context` names the owner in
  // messages, e.g. "rows[2].compressor" or "method 'rtn'".
  static Params validate(const Value& given, const std::vector<ParamSpec>& specs, const std::string& context);

  bool has(const std::string& name) const { return values_.count(name) != 0; }
  const Value& at(const std::string& name) const;  // InternalError when absent (a plugin bug)

  bool get_bool(const std::string& name) const { return at(name).as_bool(); }
  int64_t get_int(const std::string& name) const { return at(name).as_int(); }
  double get_float(const std::string& name) const { return at(name).as_float(); }
  const std::string& get_string(const std::string& name) const { return at(name).as_string(); }
  std::vector<int64_t> get_int_list(const std::string& name) const;
  std::vector<double> get_float_list(const std::string& name) const;
  std::vector<std::string> get_string_list(const std::string& name) const;

  // The user-facing location of a parameter ("file:line: "), for plugin errors about its value.
  std::string where(const std::string& name) const;
  // Throws ConfigError "<where> parameter '<name>' <message>".
  [[noreturn]] void fail(const std::string& name, const std::string& message) const;

  // "a=1,b=x" with keys sorted and every default filled in.
  std::string canonical() const;
  const Value::Table& values() const { return values_; }
  Value to_value() const { return Value(values_); }

  // Programmatic construction (tests, suites composing methods).
  Params& set(const std::string& name, Value v);

 private:
  Value::Table values_;
  std::string context_;
};

// Converts (or rejects) a value to a spec's type. Returns false when it cannot.
bool coerce_to(const Value& in, ParamType type, Value& out);

}  // namespace repro
