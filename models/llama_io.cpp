#include "models/llama_io.h"

#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/store.h"
#include "core/strings.h"
#include "models/checkpoint.h"
#include "models/safetensors.h"

namespace repro {
namespace fs = std::filesystem;

namespace {

constexpr size_t kListedNames = 10;

std::string name_list(const std::vector<std::string>& names) {
  std::vector<std::string> shown(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(std::min(names.size(), kListedNames)));
  std::string s = fmt::format("{}", fmt::join(shown, ", "));
  if (names.size() > kListedNames) s += fmt::format(", ... and {} more", names.size() - kListedNames);
  return s;
}

// Non-persistent buffers that old conversions saved.
bool ignorable(const std::string& name) { return ends_with(name, "rotary_emb.inv_freq"); }

std::string shape_str(c10::IntArrayRef s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

}  // namespace

c10::ScalarType dtype_from_name(const std::string& name) {
  if (name == "float32") return at::kFloat;
  if (name == "bfloat16") return at::kBFloat16;
  if (name == "float16") return at::kHalf;
  throw ModelError(fmt::format("dtype '{}' is not supported (supported: float32, bfloat16, float16)", name));
}

std::string dtype_name(c10::ScalarType dtype) {
  switch (dtype) {
    case at::kFloat: return "float32";
    case at::kBFloat16: return "bfloat16";
    case at::kHalf: return "float16";
    default: throw ModelError(fmt::format("model dtype {} is not supported (float32, bfloat16, float16)", c10::toString(dtype)));
  }
}

void check_checkpoint(const fs::path& dir, const CheckpointReader& reader, CausalLM& model) {
  const LlamaConfig& config = model.config();
  std::vector<NamedParam> params = model.named_parameters();
  std::set<std::string> expected;
  std::vector<std::string> missing, unknown;
  for (const NamedParam& p : params) {
    expected.insert(p.name);
    if (!reader.contains(p.name)) missing.push_back(p.name);
  }
  for (const std::string& name : reader.names()) {
    if (expected.count(name) || ignorable(name)) continue;
    if (config.tie_word_embeddings && name == "lm_head.weight") continue;  // tied: HF ignores it too
    unknown.push_back(name);
  }
  if (!missing.empty() || !unknown.empty()) {
    std::string msg = fmt::format("{}: the checkpoint does not match config.json (model_type {}, {} layers):",
                                  dir.string(), config.model_type, config.num_hidden_layers);
    if (!missing.empty()) msg += fmt::format(" {} missing tensor(s): {}", missing.size(), name_list(missing));
    if (!missing.empty() && !unknown.empty()) msg += ";";
    if (!unknown.empty()) msg += fmt::format(" {} unknown tensor(s): {}", unknown.size(), name_list(unknown));
    throw ModelError(msg);
  }
  for (const NamedParam& p : params) {
    const safetensors::TensorInfo& info = reader.info(p.name);
    if (info.shape != p.shape)
      throw ModelError(fmt::format("{}: tensor '{}' in {} has shape {}, but config.json implies {}", dir.string(), p.name,
                                   reader.file_of(p.name), shape_str(info.shape), shape_str(p.shape)));
    if (!c10::isFloatingType(to_scalar_type(info.dtype)))
      throw ModelError(fmt::format("{}: tensor '{}' in {} has dtype {}, expected a floating type", dir.string(), p.name,
                                   reader.file_of(p.name), safetensors::dtype_name(info.dtype)));
  }
}

std::unique_ptr<CausalLM> load_causal_lm(const fs::path& dir, c10::ScalarType dtype, c10::Device device) {
  dtype_name(dtype);  // validates
  refuse_pickle(dir);
  const LlamaConfig config = LlamaConfig::load(dir / "config.json");
  const CheckpointReader reader(dir);
  auto model = std::make_unique<CausalLM>(config);
  check_checkpoint(dir, reader, *model);
  for (NamedParam& p : model->named_parameters()) *p.tensor = reader.get(p.name).to(device, dtype);
  model->tie_weights();
  return model;
}

void save_causal_lm(CausalLM& model, const fs::path& dir, c10::ScalarType dtype) {
  LlamaConfig config = model.config();
  config.torch_dtype = dtype_name(dtype);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw IoError(fmt::format("{}: cannot create the model folder ({})", dir.string(), ec.message()));

  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const NamedParam& p : model.named_parameters()) {
    at::Tensor t = *p.tensor;
    const bool is_weight = p.linear && p.tensor == &p.linear->weight;
    if (is_weight && p.linear->compressed) t = p.linear->compressed->dense();  // the effective weight
    if (!t.defined()) throw InternalError(fmt::format("save_causal_lm: parameter '{}' is not initialized", p.name));
    tensors.emplace_back(p.name, t.detach().to(at::kCPU, dtype));
  }
  save_safetensors(dir / "model.safetensors", tensors, {{"format", "pt"}});
  write_file_atomic(dir / "config.json", config.to_json().dump(2) + "\n");
}

}  // namespace repro
