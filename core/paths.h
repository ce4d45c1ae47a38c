#pragma once
// Where the project's files are at run time.

#include <filesystem>

namespace repro {

// The project root: the nearest ancestor of the working directory that holds paper_configs/,
// else the source tree this binary was built from.
std::filesystem::path project_root();

}  // namespace repro
