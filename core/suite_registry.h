#pragma once
// The suite registry: every suite with its typed SuiteInfo (slots, metrics), so table configs,
// the driver and `repro list suites` read a suite's description without a cast.
//
// A suite registers itself with one line at namespace scope in its .cpp:
//     REPRO_REGISTER_SUITE(repro::PerplexitySuite);
// which needs `static const SuiteInfo& PerplexitySuite::static_info()` (family Suite::kFamily) and a
// default constructor. The suite's MethodInfo part also lands in the Catalog, so a name is unique
// across everything registered in the "Suite" family and `repro list` sees it.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/suite.h"

namespace repro {

class SuiteRegistry {
 public:
  using Factory = std::function<std::unique_ptr<Suite>()>;

  static SuiteRegistry& instance();

  // `info` must outlive the registry (a function-local static). A second suite with the same name,
  // or an info whose family is not Suite::kFamily -> InternalError.
  void add(const SuiteInfo& info, Factory factory);

  // The registered suite's description; nullptr when no suite has that name.
  const SuiteInfo* find(const std::string& name) const;
  // Like find, but an unknown name -> ConfigError naming the registered suites (with a did-you-mean).
  const SuiteInfo& info(const std::string& name) const;
  // A new instance of the suite; an unknown name -> the ConfigError of info().
  std::unique_ptr<Suite> create(const std::string& name) const;

  bool contains(const std::string& name) const { return entries_.count(name) != 0; }
  std::vector<std::string> names() const;           // sorted
  std::vector<const SuiteInfo*> list() const;       // sorted by name

 private:
  struct Entry {
    const SuiteInfo* info = nullptr;
    Factory factory;
  };
  std::map<std::string, Entry> entries_;
};

namespace detail {
template <class Impl>
struct SuiteRegistrar {
  static_assert(std::is_base_of_v<Suite, Impl>, "REPRO_REGISTER_SUITE needs a class derived from repro::Suite");
  SuiteRegistrar() {
    SuiteRegistry::instance().add(Impl::static_info(), [] { return std::unique_ptr<Suite>(new Impl()); });
  }
};
}  // namespace detail

}  // namespace repro

// One line per suite, at namespace scope in the suite's .cpp.
#define REPRO_REGISTER_SUITE(Impl)                                                        \
  static const ::repro::detail::SuiteRegistrar<Impl> REPRO_REGISTRY_CONCAT(repro_suite_registrar_, \
                                                                          __COUNTER__) {}
