#pragma once
// Plugin registries: one per method family (LayerCompressor, BlockRefiner, ...). Suites have their
// own, typed registry: core/suite_registry.h.
//
// A plugin registers itself with one line in its .cpp:
//     REPRO_REGISTER_METHOD(LayerCompressor, Gptq)
// which needs `static const MethodInfo& Gptq::static_info()` and a default constructor. Every
// registration also lands in the Catalog, a family-agnostic index of MethodInfo used to validate
// configs and to print `repro list methods` without knowing the family's C++ type.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "core/params.h"

namespace repro {

struct MethodInfo {
  std::string name;     // registry key, snake_case: "sparsegpt"
  std::string family;   // "LayerCompressor", "Suite", ...
  std::string summary;  // one line
  std::string paper;    // "Frantar & Alistarh 2023, arXiv 2301.00774" ("" for infrastructure)
  std::string version = "1";  // bump when results change: part of every cache key
  std::vector<ParamSpec> params;

  const ParamSpec* find_param(const std::string& n) const {
    for (const auto& p : params)
      if (p.name == n) return &p;
    return nullptr;
  }
};

// Family-agnostic index of everything registered.
class Catalog {
 public:
  // Checks a plugin's validated parameters beyond their specs (cross-parameter rules): for methods,
  // a fresh instance's configure(). Throws ConfigError.
  using Validator = std::function<void(const Params&)>;

  static Catalog& instance();
  // Duplicate (family, name) -> InternalError.
  void add(const MethodInfo* info, Validator validator = {});
  // Runs the plugin's validator (if it has one) on parameters already validated against its specs.
  // Tables call this for every component of every row when they load, before any row runs.
  void check(const MethodInfo& info, const Params& params) const;
  const MethodInfo* find(const std::string& family, const std::string& name) const;
  std::vector<const MethodInfo*> list(const std::string& family = "") const;
  std::vector<std::string> families() const;
  std::vector<std::string> names(const std::string& family) const;

 private:
  std::map<std::string, std::map<std::string, const MethodInfo*>> by_family_;
  std::map<const MethodInfo*, Validator> validators_;
};

// Suites have a registry of their own (core/suite_registry.h, REPRO_REGISTER_SUITE) that keeps
// their SuiteInfo typed; suite.h sets this to false for Suite so that Registry<Suite> fails to compile.
template <class Base>
struct uses_method_registry : std::true_type {};

template <class Base>
class Registry {
  static_assert(uses_method_registry<Base>::value,
                "suites register with REPRO_REGISTER_SUITE and are found in SuiteRegistry (core/suite_registry.h)");

 public:
  using Factory = std::function<std::unique_ptr<Base>()>;

  static Registry& instance() {
    static Registry r;
    return r;
  }

  // Registers a plugin; a second plugin with the same name in this family -> InternalError.
  void add(const MethodInfo& info, Factory factory, Catalog::Validator validator = {}) {
    REPRO_ASSERT(info.family == Base::kFamily,
                 "method '" + info.name + "' declares family '" + info.family + "' but registers as " + Base::kFamily);
    Catalog::instance().add(&info, std::move(validator));
    factories_[info.name] = std::move(factory);
  }

  // Creates and configures a component chosen by a parameter (ParamType::Component of this
  // family). Call it once per row (in configure()), not per use.
  std::unique_ptr<Base> create(const ComponentParams& component) const {
    REPRO_ASSERT(component.family == Base::kFamily && component.params,
                 "component '" + component.method + "' of family '" + component.family + "' created as " +
                     Base::kFamily);
    std::unique_ptr<Base> p = create(component.method);
    p->configure(*component.params);
    return p;
  }

  // Unknown name -> ConfigError listing the registered names (with a did-you-mean).
  std::unique_ptr<Base> create(const std::string& name) const {
    auto it = factories_.find(name);
    if (it == factories_.end()) unknown(name);
    return it->second();
  }

  bool contains(const std::string& name) const { return factories_.count(name) != 0; }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [k, v] : factories_) out.push_back(k);
    return out;
  }

 private:
  [[noreturn]] void unknown(const std::string& name) const;
  std::map<std::string, Factory> factories_;
};

// Throws the "unknown method" ConfigError (shared by every Registry instantiation).
[[noreturn]] void throw_unknown_method(const std::string& family, const std::string& name,
                                       const std::vector<std::string>& known);

template <class Base>
void Registry<Base>::unknown(const std::string& name) const {
  throw_unknown_method(Base::kFamily, name, names());
}

namespace detail {
// Methods are validated at load by configuring a fresh instance (configure() must be cheap and
// look at parameters only); plugins without configure() (suites) have no validator.
template <class Impl>
Catalog::Validator configure_validator() {
  if constexpr (requires(Impl& m, const Params& p) { m.configure(p); }) {
    return [](const Params& p) { Impl().configure(p); };
  } else {
    return {};
  }
}

template <class Base, class Impl>
struct Registrar {
  Registrar() {
    Registry<Base>::instance().add(
        Impl::static_info(), [] { return std::unique_ptr<Base>(new Impl()); }, configure_validator<Impl>());
  }
};
}  // namespace detail

}  // namespace repro

#define REPRO_REGISTRY_CONCAT_(a, b) a##b
#define REPRO_REGISTRY_CONCAT(a, b) REPRO_REGISTRY_CONCAT_(a, b)

// One line per plugin, at namespace scope in the plugin's .cpp.
#define REPRO_REGISTER_METHOD(Family, Impl)                                                   \
  static const ::repro::detail::Registrar<::repro::Family, Impl> REPRO_REGISTRY_CONCAT( \
      repro_registrar_, __COUNTER__) {}
