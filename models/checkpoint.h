#pragma once
// The tensors of a Hugging Face model folder, as distributed: model.safetensors, or shards listed
// by model.safetensors.index.json ("weight_map": tensor name -> shard file). Pickle checkpoints
// (pytorch_model.bin, *.pt, *.pth) are refused with a message that says why and how to convert.

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "models/safetensors.h"

namespace repro {

class CheckpointReader {
 public:
  // `path`: a model folder, or one .safetensors file. Folder lookup order: the index file, then
  // model.safetensors, then every *.safetensors in the folder. ModelError when none exists (naming
  // any pickle file found), when the index is malformed or names a missing shard or tensor, or
  // when two shards hold the same tensor.
  explicit CheckpointReader(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return path_; }
  std::vector<std::string> names() const;  // sorted
  bool contains(const std::string& name) const { return where_.count(name) > 0; }
  const safetensors::TensorInfo& info(const std::string& name) const;
  // CPU tensor in its stored dtype (see SafetensorsFile::get).
  at::Tensor get(const std::string& name) const;
  // The shard file holding `name` ("model-00001-of-00004.safetensors"), for messages.
  std::string file_of(const std::string& name) const;
  // The metadata of the first shard.
  const std::map<std::string, std::string>& metadata() const;

 private:
  const SafetensorsFile& file_for(const std::string& name) const;

  std::filesystem::path path_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, size_t> where_;  // tensor name -> index into files_
};

}  // namespace repro
