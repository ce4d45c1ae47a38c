#include "core/suite_registry.h"

#include <fmt/format.h>

#include "core/error.h"
#include "core/strings.h"

namespace repro {

SuiteRegistry& SuiteRegistry::instance() {
  static SuiteRegistry r;
  return r;
}

void SuiteRegistry::add(const SuiteInfo& info, Factory factory) {
  REPRO_ASSERT(info.family == Suite::kFamily,
               "suite '" + info.name + "' declares family '" + info.family + "' instead of " + Suite::kFamily);
  Catalog::instance().add(&info);  // rejects a duplicate name
  entries_[info.name] = Entry{&info, std::move(factory)};
}

const SuiteInfo* SuiteRegistry::find(const std::string& name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : it->second.info;
}

const SuiteInfo& SuiteRegistry::info(const std::string& name) const {
  if (const SuiteInfo* s = find(name)) return *s;
  throw_unknown_method(Suite::kFamily, name, names());
}

std::unique_ptr<Suite> SuiteRegistry::create(const std::string& name) const {
  info(name);
  return entries_.at(name).factory();
}

std::vector<std::string> SuiteRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, e] : entries_) out.push_back(name);
  return out;
}

std::vector<const SuiteInfo*> SuiteRegistry::list() const {
  std::vector<const SuiteInfo*> out;
  for (const auto& [name, e] : entries_) out.push_back(e.info);
  return out;
}

}  // namespace repro
