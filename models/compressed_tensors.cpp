#include "models/compressed_tensors.h"

#include <ATen/ATen.h>

#include <map>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "models/compact_checkpoint.h"
#include "models/llama_io.h"
#include "models/safetensors.h"

namespace repro::compressed_tensors {
namespace fs = std::filesystem;

namespace {

int pack_factor(int bits) { return 32 / bits; }

// What a linear holds, as far as this format is concerned.
enum class Kind { Dense, Quant, Sparse };

Kind kind_of(const std::string& path, const Linear& lin) {
  if (!lin.compressed) return Kind::Dense;
  const CompressedLinear& c = *lin.compressed;
  std::vector<std::string> parts;
  if (c.has_sparse()) parts.push_back("a sparse part");
  if (c.has_quant()) parts.push_back("quantized codes");
  if (c.has_low_rank()) parts.push_back("low-rank factors");
  auto refuse = [&](const std::string& why) {
    return NotSupported(fmt::format("{}: holds {}; {} (write --format compact or dense instead)", path,
                                    fmt::format("{}", fmt::join(parts, " + ")), why));
  };
  if (c.has_low_rank()) throw refuse("compressed-tensors has no low-rank form");
  if (c.has_sparse() && c.has_quant())
    throw refuse("sparse + quantized weights are written by llm-compressor as marlin-24, which this writer does not produce");
  if (c.has_quant()) return Kind::Quant;
  if (c.has_sparse()) return Kind::Sparse;
  return Kind::Dense;  // a plain weight in a CompressedLinear
}

// Whether a mask keeps at most 2 of every 4 consecutive inputs.
bool is_24(const at::Tensor& mask) {
  if (mask.size(1) % 4 != 0) return false;
  return mask.reshape({mask.size(0), -1, 4}).sum(-1).le(2).all().item<bool>();
}

}  // namespace

at::Tensor pack_int32(const at::Tensor& codes, int bits) {
  REPRO_ASSERT(codes.dim() == 2 && codes.scalar_type() == at::kByte, "pack_int32: [rows, cols] uint8 codes");
  REPRO_ASSERT(bits >= 1 && bits <= 8, "pack_int32: bits in 1..8");
  REPRO_ASSERT(codes.numel() == 0 || codes.max().item<int64_t>() < (int64_t{1} << bits), "pack_int32: a code exceeds bits");
  const int pf = pack_factor(bits);
  const int64_t rows = codes.size(0), cols = codes.size(1), words = (cols + pf - 1) / pf;
  at::Tensor v = at::constant_pad_nd(codes.to(at::kCPU, at::kLong), {0, words * pf - cols}).reshape({rows, words, pf});
  at::Tensor shifts = at::arange(pf, at::kLong) * bits;
  // Summed in int64 and wrapped to int32 bit for bit (a set top bit makes the word negative, as in
  // the reference's int32 arithmetic).
  at::Tensor packed = v.bitwise_left_shift(shifts).sum(-1);
  return packed.bitwise_and(int64_t{0xffffffff}).sub(packed.ge(int64_t{1} << 31).to(at::kLong) * (int64_t{1} << 32)).to(at::kInt);
}

at::Tensor unpack_int32(const at::Tensor& packed, int bits, int64_t cols) {
  REPRO_ASSERT(packed.dim() == 2 && packed.scalar_type() == at::kInt, "unpack_int32: [rows, words] int32");
  const int pf = pack_factor(bits);
  REPRO_ASSERT(packed.size(1) == (cols + pf - 1) / pf, "unpack_int32: words disagree with cols");
  at::Tensor w = packed.to(at::kCPU, at::kLong).bitwise_and(int64_t{0xffffffff}).unsqueeze(-1);
  at::Tensor v = w.bitwise_right_shift(at::arange(pf, at::kLong) * bits).bitwise_and((1 << bits) - 1);
  return v.reshape({packed.size(0), -1}).narrow(1, 0, cols).to(at::kByte);
}

at::Tensor pack_bitmask(const at::Tensor& mask) { return pack_codes(mask.to(at::kCPU, at::kByte).contiguous(), 1); }

nlohmann::json quant_args(const QuantCodes& q) {
  const bool channel = q.group_size <= 0 || q.n_groups() == 1;
  return {{"num_bits", q.bits},
          {"type", "int"},
          {"symmetric", q.symmetric},
          {"group_size", channel ? nlohmann::json(nullptr) : nlohmann::json(q.group_size)},
          {"strategy", channel ? "channel" : "group"},
          {"block_structure", nullptr},
          {"dynamic", false},
          {"actorder", q.g_idx.defined() ? nlohmann::json("group") : nlohmann::json(nullptr)},
          {"observer", "minmax"},
          {"observer_kwargs", nlohmann::json::object()}};
}

NamedTensors pack_quantized_layer(const std::string& path, const QuantCodes& q, c10::ScalarType dtype) {
  REPRO_ASSERT(q.defined(), "pack_quantized_layer: empty codes");
  const int64_t out = q.codes.size(0), in = q.codes.size(1);
  const double mid = static_cast<double>(int64_t{1} << (q.bits - 1)), maxq = static_cast<double>((1 << q.bits) - 1);
  at::Tensor z = q.zeros.to(at::kCPU, at::kDouble);
  if (!z.eq(z.round()).all().item<bool>() || z.min().item<double>() < 0 || z.max().item<double>() > maxq)
    throw NotSupported(fmt::format("{}: zero points are not integers in 0..{} (the format stores them as {}-bit codes)",
                                   path, static_cast<int>(maxq), q.bits));
  if (q.symmetric && !z.eq(mid).all().item<bool>())
    throw NotSupported(fmt::format("{}: a symmetric grid whose zero points are not {} (the format's symmetric "
                                   "dequantization has no zero point)", path, mid));
  if (q.group_size > 0 && q.n_groups() != (in + q.group_size - 1) / q.group_size && !q.g_idx.defined())
    throw InternalError(fmt::format("{}: {} groups for {} columns of group size {}", path, q.n_groups(), in, q.group_size));
  NamedTensors t;
  t.emplace_back(path + ".weight_packed", pack_int32(q.codes.to(at::kCPU).contiguous(), q.bits));
  t.emplace_back(path + ".weight_scale", q.scales.to(at::kCPU, dtype).contiguous());
  if (!q.symmetric)  // packed along the output dimension (pack_to_int32 with packed_dim=0)
    t.emplace_back(path + ".weight_zero_point", pack_int32(z.to(at::kByte).t().contiguous(), q.bits).t().contiguous());
  if (q.g_idx.defined()) t.emplace_back(path + ".weight_g_idx", q.g_idx.to(at::kCPU, at::kInt).contiguous());
  t.emplace_back(path + ".weight_shape", at::tensor(std::vector<int64_t>{out, in}, at::kLong));
  return t;
}

NamedTensors sparse24_bitmask_layer(const std::string& path, const at::Tensor& weight, const at::Tensor& mask,
                                    c10::ScalarType dtype) {
  const int64_t out = weight.size(0), in = weight.size(1);
  REPRO_ASSERT(is_24(mask.to(at::kCPU)), "sparse24_bitmask_layer: the mask is not 2:4");
  // Exactly two per group: fill groups that kept fewer with their first free positions.
  at::Tensor m = mask.to(at::kCPU, at::kBool).reshape({out, in / 4, 4}).clone();
  at::Tensor need = 2 - m.sum(-1, /*keepdim=*/true);                      // [out, in/4, 1]
  at::Tensor free_rank = (~m).to(at::kInt).cumsum(-1).masked_fill(m, 0);  // 1, 2, ... over free slots
  m = m | (free_rank.gt(0) & free_rank.le(need));
  m = m.reshape({out, in});
  at::Tensor w = weight.to(at::kCPU, dtype).contiguous();
  NamedTensors t;
  t.emplace_back(path + ".shape", at::tensor(std::vector<int64_t>{out, in}, at::kLong).reshape({2, 1}));
  t.emplace_back(path + ".compressed", w.masked_select(m).reshape({out, in / 2}));
  t.emplace_back(path + ".bitmask", pack_bitmask(m));
  return t;
}

NamedTensors sparse_bitmask_layer(const std::string& path, const at::Tensor& weight, c10::ScalarType dtype) {
  const int64_t out = weight.size(0), in = weight.size(1);
  at::Tensor w = weight.to(at::kCPU, dtype).contiguous();
  at::Tensor nz = w.ne(0);
  at::Tensor counts = nz.sum(-1);
  NamedTensors t;
  t.emplace_back(path + ".shape", at::tensor(std::vector<int64_t>{out, in}, at::kLong));
  t.emplace_back(path + ".compressed", w.masked_select(nz));
  t.emplace_back(path + ".bitmask", pack_bitmask(nz));
  t.emplace_back(path + ".row_offsets", (counts.cumsum(0) - counts).to(at::kLong));
  return t;
}

void save_compressed_tensors(CausalLM& model, const fs::path& dir, c10::ScalarType dtype) {
  require_plain_forward(model, "compressed-tensors");
  const std::string origin = dir.string();
  // Classify every block linear first, so that a refusal leaves nothing half written.
  std::map<std::string, Kind> kinds;
  std::vector<std::string> ignore;
  bool any_quant = false, any_sparse = false, all_24 = true;
  double zeros = 0, numel = 0;
  for (int64_t i = 0; i < model.num_layers(); ++i)
    for (const std::string& name : DecoderBlock::linear_names()) {
      const std::string path = model.block(i).linear_path(name);
      const Linear& lin = model.block(i).linear(name);
      Kind k = kind_of(path, lin);
      kinds[path] = k;
      if (k == Kind::Dense) ignore.push_back(path);
      any_quant |= k == Kind::Quant;
      if (k == Kind::Sparse) {
        any_sparse = true;
        all_24 = all_24 && is_24(lin.compressed->mask().to(at::kCPU));
        zeros += static_cast<double>((~lin.compressed->mask()).sum().item<int64_t>());
      }
      numel += static_cast<double>(lin.out_features() * lin.in_features());
    }
  if (any_quant && any_sparse)
    throw NotSupported(fmt::format("{}: some linears are quantized and others sparse; one compressed-tensors "
                                   "checkpoint here holds one or the other", origin));
  if (!any_quant && !any_sparse)
    throw NotSupported(fmt::format("{}: no linear is quantized or sparse: nothing to write in compressed-tensors "
                                   "(write --format dense)", origin));
  // The Hugging Face module path of lm_head is "lm_head": llm-compressor leaves it dense.
  ignore.insert(ignore.begin(), "lm_head");

  NamedTensors tensors;
  std::vector<nlohmann::json> scheme_args;
  std::vector<std::vector<std::string>> scheme_targets;
  for (const NamedParam& p : model.named_parameters()) {
    const bool weight = p.linear && p.tensor == &p.linear->weight;
    const std::string path = weight ? p.name.substr(0, p.name.size() - 7) : "";
    auto it = kinds.find(path);
    if (!weight || it == kinds.end() || it->second == Kind::Dense) {
      at::Tensor t = weight ? p.linear->dense_weight() : *p.tensor;
      if (!t.defined()) throw InternalError(fmt::format("save_compressed_tensors: '{}' is not initialized", p.name));
      tensors.emplace_back(p.name, t.detach().to(at::kCPU, dtype));
      continue;
    }
    const CompressedLinear& c = *p.linear->compressed;
    NamedTensors layer;
    if (it->second == Kind::Quant) {
      layer = pack_quantized_layer(path, c.quant(), dtype);
      const nlohmann::json args = quant_args(c.quant());
      size_t k = 0;
      while (k < scheme_args.size() && scheme_args[k] != args) ++k;
      if (k == scheme_args.size()) scheme_args.push_back(args), scheme_targets.emplace_back();
      scheme_targets[k].push_back(path);
    } else if (all_24) {
      layer = sparse24_bitmask_layer(path, c.dense(), c.mask(), dtype);
    } else {
      layer = sparse_bitmask_layer(path, c.dense(), dtype);
    }
    for (auto& t : layer) tensors.push_back(std::move(t));
  }

  nlohmann::json qc = {{"quant_method", "compressed-tensors"},
                       {"version", kVersion},
                       {"sparsity_config", nlohmann::json::object()},
                       {"transform_config", nlohmann::json::object()}};
  if (any_quant) {
    nlohmann::json groups = nlohmann::json::object();
    for (size_t k = 0; k < scheme_args.size(); ++k) {
      // One scheme targets every Linear (minus `ignore`); several name their layers exactly.
      nlohmann::json targets = scheme_args.size() == 1 ? nlohmann::json{"Linear"} : nlohmann::json(scheme_targets[k]);
      groups[fmt::format("group_{}", k)] = {{"targets", targets},
                                            {"weights", scheme_args[k]},
                                            {"input_activations", nullptr},
                                            {"output_activations", nullptr},
                                            {"format", "pack-quantized"}};
    }
    qc["config_groups"] = groups;
    qc["format"] = "pack-quantized";
    qc["quantization_status"] = "compressed";
    qc["kv_cache_scheme"] = nullptr;
    qc["global_compression_ratio"] = nullptr;
    qc["ignore"] = ignore;
  } else {
    qc["sparsity_config"] = {{"format", all_24 ? "sparse-24-bitmask" : "sparse-bitmask"},
                             {"targets", {"Linear"}},
                             {"ignore", ignore},
                             {"global_sparsity", numel > 0 ? zeros / numel : 0.0},
                             {"sparsity_structure", all_24 ? "2:4" : "unstructured"},
                             {"registry_requires_subclass", false}};
  }

  LlamaConfig config = model.config();
  config.torch_dtype = dtype_name(dtype);
  nlohmann::json cj = config.to_json();
  cj["quantization_config"] = std::move(qc);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw IoError(fmt::format("{}: cannot create the model folder ({})", origin, ec.message()));
  save_safetensors(dir / "model.safetensors", tensors, {{"format", "pt"}});
  write_file_atomic(dir / "config.json", cj.dump(2) + "\n");
}

}  // namespace repro::compressed_tensors
