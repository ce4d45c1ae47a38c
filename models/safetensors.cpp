#include "models/safetensors.h"

#include <ATen/ATen.h>

#include <cstring>

#include <fmt/format.h>

#include "core/error.h"

namespace repro {

at::ScalarType to_scalar_type(safetensors::Dtype dtype) {
  using safetensors::Dtype;
  switch (dtype) {
    case Dtype::F64: return at::kDouble;
    case Dtype::F32: return at::kFloat;
    case Dtype::F16: return at::kHalf;
    case Dtype::BF16: return at::kBFloat16;
    case Dtype::I64: return at::kLong;
    case Dtype::I32: return at::kInt;
    case Dtype::I16: return at::kShort;
    case Dtype::I8: return at::kChar;
    case Dtype::U8: return at::kByte;
    case Dtype::BOOL: return at::kBool;
  }
  throw InternalError("unhandled safetensors dtype");
}

safetensors::Dtype to_safetensors_dtype(at::ScalarType type, const std::string& tensor_name) {
  using safetensors::Dtype;
  switch (type) {
    case at::kDouble: return Dtype::F64;
    case at::kFloat: return Dtype::F32;
    case at::kHalf: return Dtype::F16;
    case at::kBFloat16: return Dtype::BF16;
    case at::kLong: return Dtype::I64;
    case at::kInt: return Dtype::I32;
    case at::kShort: return Dtype::I16;
    case at::kChar: return Dtype::I8;
    case at::kByte: return Dtype::U8;
    case at::kBool: return Dtype::BOOL;
    default:
      throw ModelError(fmt::format("tensor '{}': dtype {} cannot be stored in safetensors", tensor_name,
                                   c10::toString(type)));
  }
}

void refuse_pickle(const std::filesystem::path& path) {
  const std::string ext = path.extension().string();
  if (ext == ".bin" || ext == ".pt" || ext == ".pth" || ext == ".ckpt" || ext == ".pkl") {
    throw ModelError(fmt::format(
        "{}: pickle checkpoints are refused because unpickling can run arbitrary code; convert it to safetensors "
        "on a machine you trust (transformers: model.save_pretrained(dir, safe_serialization=True))",
        path.string()));
  }
}

SafetensorsFile::SafetensorsFile(const std::filesystem::path& path) {
  refuse_pickle(path);
  file_ = std::make_unique<safetensors::MappedFile>(path);
  header_ = safetensors::parse_header(file_->data(), file_->size(), path.string());
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  out.reserve(header_.tensors.size());
  for (const auto& [name, info] : header_.tensors) out.push_back(name);
  return out;
}

const safetensors::TensorInfo& SafetensorsFile::info(const std::string& name) const {
  auto it = header_.tensors.find(name);
  if (it == header_.tensors.end()) throw ModelError(fmt::format("{}: no tensor '{}'", path().string(), name));
  return it->second;
}

at::Tensor SafetensorsFile::get(const std::string& name) const {
  const safetensors::TensorInfo& t = info(name);
  at::Tensor out = at::empty(t.shape, at::TensorOptions().dtype(to_scalar_type(t.dtype)));
  const size_t bytes = t.end - t.begin;
  if (bytes > 0) {
    const size_t at = header_.data_offset + t.begin;
    std::memcpy(out.data_ptr(), file_->data() + at, bytes);
    file_->drop_pages(at, at + bytes);  // the copy is what the caller keeps; do not count it twice
  }
  return out;
}

void save_safetensors(const std::filesystem::path& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  std::vector<at::Tensor> host;  // keeps the CPU copies alive while writing
  std::vector<safetensors::RawTensor> raw;
  host.reserve(tensors.size());
  raw.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) {
    REPRO_ASSERT(tensor.defined(), fmt::format("save_safetensors: tensor '{}' is undefined", name));
    host.push_back(tensor.detach().to(at::kCPU).contiguous());
    const at::Tensor& h = host.back();
    safetensors::RawTensor r;
    r.name = name;
    r.dtype = to_safetensors_dtype(h.scalar_type(), name);
    r.shape.assign(h.sizes().begin(), h.sizes().end());
    r.data = h.data_ptr();
    r.nbytes = static_cast<size_t>(h.numel()) * h.element_size();
    raw.push_back(std::move(r));
  }
  safetensors::write_file(path, raw, metadata);
}

}  // namespace repro
