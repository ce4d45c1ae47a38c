#pragma once
// safetensors files as ATen tensors: a memory-mapped, validated reader and an atomic writer.
// The format itself (and all validation) lives in safetensors_format.h, free of libtorch.
//
// Tensors returned by get() are copies: CPU, contiguous, owning their memory, so they stay valid
// after the file object dies and may be written to. The mapping is paged in on demand, and get()
// drops the pages it copied from the process's resident set (they stay in the page cache), so
// reading a checkpoint tensor by tensor holds the copies the caller keeps and nothing more: a
// model larger than memory can be streamed block by block (models/streaming_model.h).

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "models/safetensors_format.h"

namespace repro {

// Dtype conversions (ModelError for ATen dtypes that safetensors cannot hold, e.g. complex).
at::ScalarType to_scalar_type(safetensors::Dtype dtype);
safetensors::Dtype to_safetensors_dtype(at::ScalarType type, const std::string& tensor_name);

// Throws ModelError when `path` names a pickle checkpoint (.bin, .pt, .pth, .ckpt, .pkl): loading
// pickle can run arbitrary code, so ReproBench refuses it and says how to convert.
void refuse_pickle(const std::filesystem::path& path);

class SafetensorsFile {
 public:
  // Maps and validates the file (ModelError naming the file and tensor on any problem).
  explicit SafetensorsFile(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return file_->path(); }
  std::vector<std::string> names() const;  // sorted
  bool contains(const std::string& name) const { return header_.tensors.count(name) > 0; }
  // ModelError naming the file when absent.
  const safetensors::TensorInfo& info(const std::string& name) const;
  // The tensor, copied out of the mapping: CPU, contiguous, its stored dtype and shape.
  at::Tensor get(const std::string& name) const;
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }

 private:
  std::unique_ptr<safetensors::MappedFile> file_;
  safetensors::Header header_;
};

// Writes `tensors` (any device, any supported dtype; written as they are) and `metadata` to
// `path` atomically. Names must be unique.
void save_safetensors(const std::filesystem::path& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace repro
