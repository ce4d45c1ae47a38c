#pragma once
// Cheap identities of what a row reads, for cache keys: hashes of files, never of loaded tensors.

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace repro {

// {"name", "path", "sha256"} of a model folder: config.json, the weights (*.safetensors and the
// index) and the tokenizer files, hashed in name order. Missing folder or config -> ModelError.
nlohmann::json model_identity(const std::string& spec);

// sha256 over the named files of a text dataset's split folder (those that exist).
std::string dataset_files_sha256(const std::string& dataset, const std::filesystem::path& data_dir,
                                 const std::string& split);

}  // namespace repro
