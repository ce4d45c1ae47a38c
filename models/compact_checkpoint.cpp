#include "models/compact_checkpoint.h"

#include <ATen/ATen.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_text.h"
#include "models/llama_io.h"
#include "models/safetensors.h"

namespace repro {
namespace fs = std::filesystem;

namespace {

constexpr const char* kTensorFile = "compressed.safetensors";
constexpr const char* kLayoutFile = "compression.json";

bool is_linear_weight(const NamedParam& p) { return p.linear && p.tensor == &p.linear->weight; }

std::string path_of(const NamedParam& p) { return p.name.substr(0, p.name.size() - std::string(".weight").size()); }

// Zeros are integer-valued grid offsets for every quantizer here; one byte holds them unless a
// method produced something else, which then stays fp32 rather than being rounded.
bool zeros_fit_bytes(const at::Tensor& zeros) {
  if (zeros.numel() == 0) return true;
  at::Tensor z = zeros.to(at::kCPU, at::kFloat);
  return z.eq(z.round()).all().item<bool>() && z.min().item<float>() >= 0.f && z.max().item<float>() <= 255.f;
}

// The plain weight of a linear with neither a sparse nor a quantized part: base() is it. A zero base
// beside low-rank factors (CompressedLinear's stand-in when it has no plain weight) is not stored:
// x 0^T adds nothing to the low-rank term.
at::Tensor plain_part(const CompressedLinear& c) {
  if (c.has_sparse() || c.has_quant()) return {};
  at::Tensor b = c.base();
  if (c.has_low_rank() && !b.ne(0).any().item<bool>()) return {};
  return b;
}

// The N:M pattern a sparse part was given (CompressedLinear keeps it for storage accounting only
// and has no getter): the M = 2^k whose N:M index cost reproduces the layer's reported storage,
// with N the most weights any group of M consecutive inputs keeps (N < M, a real N:M mask);
// {0, 0} when the unstructured bitmap cost does. Patterns with M a power of two (2:4, 4:8, 8:16,
// 16:32) come back exactly; any other M comes back as the power of two with the same index bits,
// which stats() cannot tell apart.
std::pair<int, int> pattern_of(const CompressedLinear& c) {
  if (!c.has_sparse()) return {0, 0};
  const double bits = c.stats().bits;
  CompressedLinear probe = c;  // shares the tensors; only the pattern changes
  const at::Tensor mask = c.mask().to(at::kCPU);
  const int64_t out = c.out_features(), in = c.in_features();
  for (int k = 1; k <= 8; ++k) {
    const int m = 1 << k;
    if (in % m != 0) break;
    const int n = static_cast<int>(mask.reshape({out, in / m, m}).sum(-1).max().item<int64_t>());
    if (n >= m) continue;
    probe.set_pattern(n, m);
    if (probe.stats().bits == bits) return {n, m};
  }
  probe.set_pattern(0, 0);
  REPRO_ASSERT(probe.stats().bits == bits, "compact checkpoint: no N:M pattern reproduces the layer's storage");
  return {0, 0};
}

std::string shape_str(c10::IntArrayRef s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ModelError(fmt::format("{}: cannot open", path.string()));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string why;
  std::optional<nlohmann::json> parsed = parse_json_text(ss.str(), &why);
  if (!parsed) throw ModelError(fmt::format("{}: not valid JSON ({})", path.string(), why));
  return std::move(*parsed);
}

// Reads tensors of one file with checks that name the file and the tensor.
class TensorSource {
 public:
  explicit TensorSource(const fs::path& path) : file_(path), origin_(path.string()) {}

  bool has(const std::string& name) const { return file_.contains(name); }

  at::Tensor get(const std::string& name, at::ScalarType dtype, const std::vector<int64_t>& shape) {
    at::Tensor t = get_any(name);
    if (t.scalar_type() != dtype)
      throw ModelError(fmt::format("{}: tensor '{}' has dtype {}, expected {}", origin_, name,
                                   c10::toString(t.scalar_type()), c10::toString(dtype)));
    if (t.sizes().vec() != shape)
      throw ModelError(fmt::format("{}: tensor '{}' has shape {}, expected {}", origin_, name, shape_str(t.sizes()),
                                   shape_str(shape)));
    return t;
  }

  at::Tensor get_any(const std::string& name) {
    if (!file_.contains(name)) throw ModelError(fmt::format("{}: tensor '{}' is missing", origin_, name));
    used_.insert(name);
    return file_.get(name);
  }

  // Names the file holds that nothing read (a writer/reader mismatch or a foreign file).
  std::vector<std::string> unused() const {
    std::vector<std::string> out;
    for (const auto& n : file_.names())
      if (!used_.count(n)) out.push_back(n);
    return out;
  }
  const std::string& origin() const { return origin_; }

 private:
  SafetensorsFile file_;
  std::string origin_;
  std::set<std::string> used_;
};

}  // namespace

bool is_compact_checkpoint(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / kLayoutFile, ec);
}

void require_plain_forward(const CausalLM& model, const std::string& format) {
  for (int64_t i = 0; i < model.num_layers(); ++i) {
    const ForwardSim& s = model.block(i).sim;
    std::vector<std::string> hooks;
    if (s.qk_hadamard || s.o_heads_hadamard || s.down_hadamard) hooks.push_back("online Hadamard rotations");
    if (s.act.on()) hooks.push_back("activation fake quantization");
    if (s.k.on() || s.v.on()) hooks.push_back("KV-cache fake quantization");
    if (!hooks.empty())
      throw NotSupported(fmt::format(
          "block {} runs {} in its forward (set by a transform such as hadamard_rotation or act_quant); the {} format "
          "stores weights only, so the written model would compute something else",
          i, fmt::join(hooks, " and "), format));
  }
}

void save_compact_checkpoint(CausalLM& model, const fs::path& dir, c10::ScalarType dtype) {
  require_plain_forward(model, "compact");
  LlamaConfig config = model.config();
  config.torch_dtype = dtype_name(dtype);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw IoError(fmt::format("{}: cannot create the model folder ({})", dir.string(), ec.message()));

  std::vector<std::pair<std::string, at::Tensor>> tensors;
  nlohmann::json layers = nlohmann::json::object();
  auto f32 = [](const at::Tensor& t) { return t.detach().to(at::kCPU, at::kFloat).contiguous(); };
  for (const NamedParam& p : model.named_parameters()) {
    if (!is_linear_weight(p) || !p.linear->compressed) {
      if (!p.tensor->defined()) throw InternalError(fmt::format("save_compact_checkpoint: '{}' is not initialized", p.name));
      tensors.emplace_back(p.name, p.tensor->detach().to(at::kCPU, dtype));
      continue;
    }
    const CompressedLinear& c = *p.linear->compressed;
    const std::string path = path_of(p);
    const auto [n, m] = pattern_of(c);
    nlohmann::json layer = {{"shape", {c.out_features(), c.in_features()}}, {"pattern", {n, m}}};
    std::vector<std::string> parts;
    if (at::Tensor plain = plain_part(c); plain.defined()) {
      parts.push_back("dense");
      tensors.emplace_back(path + ".dense", f32(plain));
    }
    at::Tensor mask;
    if (c.has_sparse()) {
      parts.push_back("sparse");
      mask = c.mask().to(at::kCPU).contiguous();
      tensors.emplace_back(path + ".sparse.mask", pack_codes(mask.to(at::kByte), 1));
      if (!c.has_quant()) tensors.emplace_back(path + ".sparse.values", f32(c.sparse_values()).masked_select(mask));
    }
    if (c.has_quant()) {
      const QuantCodes& q = c.quant();
      parts.push_back("quant");
      at::Tensor codes = q.codes.to(at::kCPU).contiguous();
      if (mask.defined()) codes = codes.masked_select(mask).unsqueeze(0);
      tensors.emplace_back(path + ".quant.codes", pack_codes(codes, q.bits));
      tensors.emplace_back(path + ".quant.scales", f32(q.scales));
      tensors.emplace_back(path + ".quant.zeros", zeros_fit_bytes(q.zeros) ? f32(q.zeros).to(at::kByte) : f32(q.zeros));
      if (q.g_idx.defined()) tensors.emplace_back(path + ".quant.g_idx", q.g_idx.to(at::kCPU, at::kInt).contiguous());
      layer["bits"] = q.bits;
      layer["group_size"] = q.group_size;
      layer["symmetric"] = q.symmetric;
    }
    if (c.has_low_rank()) {
      parts.push_back("low_rank");
      tensors.emplace_back(path + ".low_rank.U", f32(c.U()));
      tensors.emplace_back(path + ".low_rank.V", f32(c.V()));
    }
    layer["parts"] = parts;
    layers[path] = std::move(layer);
  }
  save_safetensors(dir / kTensorFile, tensors, {{"format", kCompactFormat}});
  nlohmann::json layout = {{"format", kCompactFormat}, {"version", kCompactVersion}, {"dtype", dtype_name(dtype)},
                           {"layers", std::move(layers)}};
  write_file_atomic(dir / kLayoutFile, layout.dump(2) + "\n");
  write_file_atomic(dir / "config.json", config.to_json().dump(2) + "\n");
}

std::unique_ptr<CausalLM> load_compact_checkpoint(const fs::path& dir, c10::ScalarType dtype) {
  dtype_name(dtype);  // validates
  const fs::path layout_path = dir / kLayoutFile;
  const std::string origin = layout_path.string();
  const nlohmann::json layout = read_json(layout_path);
  if (!layout.is_object() || layout.value("format", "") != kCompactFormat)
    throw ModelError(fmt::format("{}: \"format\" is not \"{}\"", origin, kCompactFormat));
  if (layout.value("version", -1) != kCompactVersion)
    throw ModelError(fmt::format("{}: version {} is not supported (this build reads version {})", origin,
                                 layout.value("version", -1), kCompactVersion));
  if (!layout.contains("layers") || !layout["layers"].is_object())
    throw ModelError(origin + ": missing the \"layers\" object");
  const nlohmann::json& layers = layout["layers"];

  const LlamaConfig config = LlamaConfig::load(dir / "config.json");
  auto model = std::make_unique<CausalLM>(config);
  TensorSource src(dir / kTensorFile);
  std::set<std::string> seen;
  for (NamedParam& p : model->named_parameters()) {
    const std::string path = is_linear_weight(p) ? path_of(p) : "";
    if (path.empty() || !layers.contains(path)) {
      at::Tensor t = src.get_any(p.name);
      if (t.sizes().vec() != p.shape)
        throw ModelError(fmt::format("{}: tensor '{}' has shape {}, but config.json implies {}", src.origin(), p.name,
                                     shape_str(t.sizes()), shape_str(p.shape)));
      if (!c10::isFloatingType(t.scalar_type()))
        throw ModelError(fmt::format("{}: tensor '{}' is not floating point", src.origin(), p.name));
      *p.tensor = t.to(dtype);
      continue;
    }
    seen.insert(path);
    const nlohmann::json& l = layers[path];
    auto fail = [&](const std::string& what) -> ModelError {
      return ModelError(fmt::format("{}: layer '{}': {}", origin, path, what));
    };
    try {
      const int64_t out = p.shape[0], in = p.shape[1];
      if (l.at("shape") != nlohmann::json{out, in})
        throw fail(fmt::format("shape {} disagrees with config.json ([{}, {}])", l.at("shape").dump(), out, in));
      std::set<std::string> parts;
      for (const auto& part : l.at("parts")) parts.insert(part.get<std::string>());
      for (const auto& part : parts)
        if (part != "dense" && part != "sparse" && part != "quant" && part != "low_rank")
          throw fail(fmt::format("unknown part '{}' (known: dense, sparse, quant, low_rank)", part));
      if (parts.empty()) throw fail("no parts");
      CompressedLinear c;
      if (parts.count("dense")) c.set_dense(src.get(path + ".dense", at::kFloat, {out, in}));
      at::Tensor mask;
      if (parts.count("sparse"))
        mask = unpack_codes(src.get(path + ".sparse.mask", at::kByte, {out, packed_row_bytes(in, 1)}), 1, in).to(at::kBool);
      const int64_t nnz = mask.defined() ? mask.sum().item<int64_t>() : out * in;
      if (parts.count("quant")) {
        QuantCodes q;
        q.bits = l.at("bits").get<int>();
        q.group_size = l.at("group_size").get<int64_t>();
        q.symmetric = l.at("symmetric").get<bool>();
        if (q.bits < 1 || q.bits > 8) throw fail(fmt::format("bits {} outside 1..8", q.bits));
        const int64_t rows = mask.defined() ? 1 : out, cols = mask.defined() ? nnz : in;
        at::Tensor codes = unpack_codes(src.get(path + ".quant.codes", at::kByte, {rows, packed_row_bytes(cols, q.bits)}),
                                        q.bits, cols);
        if (mask.defined()) codes = at::zeros({out, in}, at::kByte).masked_scatter(mask, codes.view(-1));
        q.codes = codes;
        q.scales = src.get_any(path + ".quant.scales");
        if (q.scales.dim() != 2 || q.scales.size(0) != out || q.scales.scalar_type() != at::kFloat)
          throw fail(fmt::format("quant.scales is {} {}, expected [{}, groups] float32", c10::toString(q.scales.scalar_type()),
                                 shape_str(q.scales.sizes()), out));
        at::Tensor zeros = src.get_any(path + ".quant.zeros");
        if (zeros.sizes() != q.scales.sizes() || (zeros.scalar_type() != at::kByte && zeros.scalar_type() != at::kFloat))
          throw fail(fmt::format("quant.zeros is {} {}, expected uint8 or float32 {}", c10::toString(zeros.scalar_type()),
                                 shape_str(zeros.sizes()), shape_str(q.scales.sizes())));
        q.zeros = zeros.to(at::kFloat);
        if (src.has(path + ".quant.g_idx")) q.g_idx = src.get(path + ".quant.g_idx", at::kInt, {in}).to(at::kLong);
        const int64_t groups = q.scales.size(1);
        const int64_t max_group = q.g_idx.defined() ? (in ? q.g_idx.max().item<int64_t>() : 0)
                                                    : (in - 1) / (q.group_size > 0 ? q.group_size : in);
        if (max_group >= groups || (q.g_idx.defined() && in && q.g_idx.min().item<int64_t>() < 0))
          throw fail(fmt::format("a column's group is outside the {} groups of quant.scales", groups));
        c.set_quant(std::move(q));
      }
      if (mask.defined()) {
        // A quantized sparse part keeps its values in the codes; the values tensor is then unused.
        at::Tensor values = parts.count("quant")
                                ? c.quant().dequantize() * mask
                                : at::zeros({out, in}).masked_scatter(mask, src.get(path + ".sparse.values", at::kFloat, {nnz}));
        c.set_sparse(values, mask);
      }
      if (parts.count("low_rank")) {
        at::Tensor U = src.get_any(path + ".low_rank.U"), V = src.get_any(path + ".low_rank.V");
        if (U.dim() != 2 || V.dim() != 2 || U.size(0) != out || V.size(1) != in || U.size(1) != V.size(0) ||
            U.scalar_type() != at::kFloat || V.scalar_type() != at::kFloat)
          throw fail(fmt::format("low_rank.U {} and low_rank.V {} are not float32 [{}, r] x [r, {}]", shape_str(U.sizes()),
                                 shape_str(V.sizes()), out, in));
        c.set_low_rank(U, V);
      }
      const auto& pattern = l.at("pattern");
      c.set_pattern(pattern.at(0).get<int>(), pattern.at(1).get<int>());
      p.linear->compressed = std::make_shared<CompressedLinear>(std::move(c));
      *p.tensor = at::Tensor();
    } catch (const nlohmann::json::exception& e) {
      throw fail(fmt::format("malformed entry ({})", e.what()));
    }
  }
  for (const auto& [path, l] : layers.items())
    if (!seen.count(path)) throw ModelError(fmt::format("{}: layer '{}' is not a linear of this model", origin, path));
  if (auto extra = src.unused(); !extra.empty())
    throw ModelError(fmt::format("{}: {} tensor(s) the layout does not use, e.g. '{}'", src.origin(), extra.size(), extra.front()));
  model->tie_weights();
  return model;
}

}  // namespace repro
