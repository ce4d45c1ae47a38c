#include "core/paths.h"

#include "repro_build_info.h"

namespace repro {

std::filesystem::path project_root() {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (fs::path p = fs::current_path(ec); !p.empty(); p = p.parent_path()) {
    if (fs::is_directory(p / "paper_configs", ec) && fs::is_directory(p / "core", ec)) return p;
    if (p == p.parent_path()) break;
  }
  return REPRO_SOURCE_DIR;
}

}  // namespace repro

namespace repro {

std::filesystem::path resolve_model_path(const std::string& spec) {
  if (spec.rfind("zoo:", 0) == 0) return project_root() / "models" / "zoo" / spec.substr(4);
  return spec;
}

}  // namespace repro
