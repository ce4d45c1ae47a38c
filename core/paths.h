#pragma once
// Where the project's files are at run time.

#include <filesystem>
#include <string>

namespace repro {

// The project root: the nearest ancestor of the working directory that holds paper_configs/,
// else the source tree this binary was built from.
std::filesystem::path project_root();

}  // namespace repro

namespace repro {

// A model reference as users write it: "zoo:<name>" -> <project>/models/zoo/<name>; anything else
// is a folder path, returned as given.
std::filesystem::path resolve_model_path(const std::string& spec);

}  // namespace repro
