#include "models/checkpoint.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_text.h"

namespace repro {
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> files_with(const fs::path& dir, const std::vector<std::string>& extensions) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string ext = entry.path().extension().string();
    if (entry.is_regular_file() && std::find(extensions.begin(), extensions.end(), ext) != extensions.end())
      out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Shard files named by an index's weight_map, validated; name -> shard file name.
std::map<std::string, std::string> read_index(const fs::path& index_path) {
  std::ifstream in(index_path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string origin = index_path.string();
  std::string why;
  std::optional<nlohmann::json> parsed = parse_json_text(ss.str(), &why);
  if (!parsed) throw ModelError(fmt::format("{}: not valid JSON ({})", origin, why));
  nlohmann::json j = std::move(*parsed);
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    throw ModelError(origin + ": missing the \"weight_map\" object");
  std::map<std::string, std::string> map;
  for (const auto& [name, file] : j["weight_map"].items()) {
    if (!file.is_string()) throw ModelError(fmt::format("{}: weight_map['{}'] is not a file name", origin, name));
    const std::string f = file.get<std::string>();
    if (f.empty() || f.find('/') != std::string::npos || f == "." || f == "..")
      throw ModelError(fmt::format("{}: weight_map['{}'] = '{}' is not a file name in the model folder", origin, name, f));
    map[name] = f;
  }
  return map;
}

}  // namespace

CheckpointReader::CheckpointReader(const fs::path& path) : path_(path) {
  refuse_pickle(path);
  std::vector<fs::path> shards;
  std::map<std::string, std::string> index;
  const fs::path index_path = path / "model.safetensors.index.json";
  if (fs::is_regular_file(path)) {
    shards.push_back(path);
  } else if (!fs::is_directory(path)) {
    throw ModelError(fmt::format("{}: no such model folder or file", path.string()));
  } else if (fs::exists(index_path)) {
    index = read_index(index_path);
    std::set<std::string> unique;
    for (const auto& [name, file] : index) unique.insert(file);
    for (const std::string& f : unique) {
      if (!fs::exists(path / f))
        throw ModelError(fmt::format("{}: shard '{}' listed in model.safetensors.index.json is missing", path.string(), f));
      shards.push_back(path / f);
    }
  } else if (fs::exists(path / "model.safetensors")) {
    shards.push_back(path / "model.safetensors");
  } else {
    shards = files_with(path, {".safetensors"});
    if (shards.empty()) {
      auto pickles = files_with(path, {".bin", ".pt", ".pth", ".ckpt", ".pkl"});
      if (!pickles.empty()) refuse_pickle(pickles.front());
      throw ModelError(fmt::format("{}: no model.safetensors, model.safetensors.index.json or *.safetensors file",
                                   path.string()));
    }
  }

  for (const fs::path& shard : shards) {
    files_.push_back(std::make_unique<SafetensorsFile>(shard));
    const size_t k = files_.size() - 1;
    for (const std::string& name : files_.back()->names()) {
      auto [it, inserted] = where_.emplace(name, k);
      if (!inserted)
        throw ModelError(fmt::format("{}: tensor '{}' is in both {} and {}", path.string(), name,
                                     files_[it->second]->path().filename().string(), shard.filename().string()));
    }
  }
  for (const auto& [name, file] : index) {
    auto it = where_.find(name);
    if (it == where_.end() || files_[it->second]->path().filename() != file)
      throw ModelError(fmt::format("{}: model.safetensors.index.json puts tensor '{}' in {}, which does not hold it",
                                   path.string(), name, file));
  }
}

std::vector<std::string> CheckpointReader::names() const {
  std::vector<std::string> out;
  out.reserve(where_.size());
  for (const auto& [name, k] : where_) out.push_back(name);
  return out;
}

const SafetensorsFile& CheckpointReader::file_for(const std::string& name) const {
  auto it = where_.find(name);
  if (it == where_.end()) throw ModelError(fmt::format("{}: no tensor '{}'", path_.string(), name));
  return *files_[it->second];
}

const safetensors::TensorInfo& CheckpointReader::info(const std::string& name) const { return file_for(name).info(name); }

at::Tensor CheckpointReader::get(const std::string& name) const { return file_for(name).get(name); }

std::string CheckpointReader::file_of(const std::string& name) const {
  return file_for(name).path().filename().string();
}

const std::map<std::string, std::string>& CheckpointReader::metadata() const {
  static const std::map<std::string, std::string> kEmpty;
  return files_.empty() ? kEmpty : files_.front()->metadata();
}

}  // namespace repro
