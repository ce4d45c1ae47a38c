#include "core/registry.h"

#include <fmt/format.h>

#include "core/strings.h"

namespace repro {

Catalog& Catalog::instance() {
  static Catalog c;
  return c;
}

void Catalog::add(const MethodInfo* info, Validator validator) {
  auto& fam = by_family_[info->family];
  if (fam.count(info->name))
    throw InternalError(fmt::format("two {} plugins are registered as '{}'; names must be unique in a family",
                                    info->family, info->name));
  fam[info->name] = info;
  if (validator) validators_[info] = std::move(validator);
}

void Catalog::check(const MethodInfo& info, const Params& params) const {
  auto it = validators_.find(&info);
  if (it != validators_.end()) it->second(params);
}

const MethodInfo* Catalog::find(const std::string& family, const std::string& name) const {
  auto f = by_family_.find(family);
  if (f == by_family_.end()) return nullptr;
  auto it = f->second.find(name);
  return it == f->second.end() ? nullptr : it->second;
}

std::vector<const MethodInfo*> Catalog::list(const std::string& family) const {
  std::vector<const MethodInfo*> out;
  for (const auto& [fam, m] : by_family_) {
    if (!family.empty() && fam != family) continue;
    for (const auto& [name, info] : m) out.push_back(info);
  }
  return out;
}

std::vector<std::string> Catalog::families() const {
  std::vector<std::string> out;
  for (const auto& [fam, m] : by_family_) out.push_back(fam);
  return out;
}

std::vector<std::string> Catalog::names(const std::string& family) const {
  std::vector<std::string> out;
  auto f = by_family_.find(family);
  if (f != by_family_.end())
    for (const auto& [name, info] : f->second) out.push_back(name);
  return out;
}

void throw_unknown_method(const std::string& family, const std::string& name, const std::vector<std::string>& known) {
  throw ConfigError(fmt::format("unknown {} '{}'{}; registered: {}", family, name, did_you_mean(name, known),
                                known.empty() ? "(none)" : join(known, ", ")));
}

}  // namespace repro
