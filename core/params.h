#pragma once
// Typed, validated parameters of a method or suite.
//
// A plugin declares its parameters as ParamSpecs (name, type, default, one-line doc, and the values
// it accepts: a range, extra allowed values, string choices). A Params is built from a config table
// by validate(): unknown keys, ill-typed and out-of-range values are ConfigErrors that name
// file:line and key; absent keys take their defaults; ints are accepted for floats.
//
// A parameter may also be a component: another plugin of a given family, with its own parameters
// (`mask_solver = "topk"` or `mask_solver = { method = "tsenor", iters = 300 }`). It is validated
// against that plugin's specs, and prints as `tsenor(iters=300,...)` in the canonical spec.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/value.h"

namespace repro {

struct MethodInfo;
class Params;

enum class ParamType { Bool, Int, Float, String, IntList, FloatList, StringList, Component };

std::string param_type_name(ParamType t);
bool is_list_type(ParamType t);

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::Float;
  Value default_value;               // null: the parameter is required
  std::string doc;                   // one line
  std::vector<std::string> choices;  // for strings: allowed values (empty: any)
  // Numbers (and the elements of number lists): the accepted range, inclusive unless marked
  // exclusive, plus values accepted outside it ("-1: one group per channel").
  std::optional<double> min, max;
  bool min_exclusive = false, max_exclusive = false;
  std::vector<double> also;
  std::string family;  // Component: the plugin family ("MaskSolver")
  // Left out of the canonical spec while it holds its default: for a parameter added to a released
  // plugin whose default keeps the old behaviour, so that existing records and caches stay valid.
  bool quiet_default = false;

  bool required() const { return default_value.is_null(); }

  // Chainable constraints: param_int("bits", 4, "...").range(2, 8).or_value(16).
  ParamSpec& range(double lo, double hi);
  ParamSpec& at_least(double lo);
  ParamSpec& above(double lo);  // exclusive
  ParamSpec& at_most(double hi);
  ParamSpec& below(double hi);  // exclusive
  ParamSpec& or_value(double v);
  ParamSpec& quiet_at_default() {
    quiet_default = true;
    return *this;
  }
  // The accepted values in words: "in [2, 8] or 16", "> 0", "one of a|b", "" when unconstrained.
  std::string constraint() const;
  // Whether a number satisfies the range (and `also`).
  bool accepts(double v) const;
};

// Helpers for declaring specs tersely in plugins.
ParamSpec param_bool(std::string name, bool def, std::string doc);
ParamSpec param_int(std::string name, int64_t def, std::string doc);
ParamSpec param_float(std::string name, double def, std::string doc);
ParamSpec param_string(std::string name, std::string def, std::string doc, std::vector<std::string> choices = {});
ParamSpec param_required(std::string name, ParamType type, std::string doc);
ParamSpec param_list(std::string name, ParamType type, Value::Array def, std::string doc);
// A component of `family` (default: the plugin named `def`, with its own defaults).
ParamSpec param_component(std::string name, std::string family, std::string def, std::string doc);

// The value of a component parameter: which plugin, and its validated parameters.
struct ComponentParams {
  std::string family, method;
  const MethodInfo* info = nullptr;
  std::shared_ptr<const Params> params;

  // "tsenor(iters=300,tau=0.1)"
  std::string canonical() const;
  // "tsenor@2": the plugin's version, then those of its own components, for cache keys.
  std::vector<std::string> versions() const;
};

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
  const ComponentParams& get_component(const std::string& name) const;  // InternalError when not a component

  // The user-facing location of a parameter ("file:line: "), for plugin errors about its value.
  std::string where(const std::string& name) const;
  // Throws ConfigError "<where> parameter '<name>' <message>".
  [[noreturn]] void fail(const std::string& name, const std::string& message) const;

  // "a=1,b=x" with keys sorted and every default filled in (except quiet_at_default parameters
  // that hold their default); components as "c=name(k=v,...)".
  std::string canonical() const;
  // Every nested component's "name@version" (depth first), for cache keys.
  std::vector<std::string> component_versions() const;
  const Value::Table& values() const { return values_; }
  Value to_value() const { return Value(values_); }

  // Programmatic construction (tests, suites composing methods). Not for component parameters:
  // build those through validate().
  Params& set(const std::string& name, Value v);

 private:
  static ComponentParams validate_component(const Value& v, const ParamSpec& s, const std::string& context);

  Value::Table values_;
  std::map<std::string, ComponentParams> components_;
  std::set<std::string> quiet_;  // quiet_at_default parameters holding their default
  std::string context_;
};

// Converts (or rejects) a value to a spec's type. Returns false when it cannot.
bool coerce_to(const Value& in, ParamType type, Value& out);

}  // namespace repro
