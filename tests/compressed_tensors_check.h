#pragma once
// A structural check of a compressed-tensors checkpoint folder against the format as the
// compressed-tensors sources define it (release 0.12.2: quant_args.py, quant_config.py,
// quant_scheme.py, pack_quantized.py, sparse_24_bitmask.py, sparse_bitmask.py,
// model_compressor.py), and a decoder of its layers. Written from the format, not from
// models/compressed_tensors.cpp: the writer's tests use it as an independent reader, with plain
// loops over the stored bytes rather than the writer's tensor code.

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "models/checkpoint.h"
#include "models/decoder_block.h"
#include "models/llama.h"
#include "models/llama_config.h"

namespace repro::test {

struct CtLayer {
  std::string path;           // "model.layers.0.mlp.down_proj"
  int64_t out = 0, in = 0;
  std::string kind;           // "dense" (ignored), "quant", "sparse24", "sparse"
  nlohmann::json weights;     // the scheme's weight args (quant)
};

struct CtReport {
  std::vector<std::string> problems;  // empty: the checkpoint passes
  std::vector<CtLayer> layers;        // every linear, with how it is stored
  std::string describe() const {
    std::string s;
    for (const auto& p : problems) s += p + "\n";
    return s;
  }
};

inline nlohmann::json ct_read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str());
}

inline std::set<std::string> ct_keys(const nlohmann::json& o) {
  std::set<std::string> k;
  for (const auto& [key, v] : o.items()) k.insert(key);
  return k;
}

inline CtReport check_compressed_tensors(const std::filesystem::path& dir) {
  CtReport r;
  auto bad = [&](const std::string& s) { r.problems.push_back(s); };
  const nlohmann::json config = ct_read_json(dir / "config.json");
  if (!config.contains("quantization_config")) {
    bad("config.json has no quantization_config");
    return r;
  }
  const nlohmann::json& qc = config["quantization_config"];
  // ModelCompressor.update_config: version, quant_method, sparsity_config, transform_config, plus
  // QuantizationConfig.model_dump() without quant_method when quantized.
  const std::set<std::string> base_keys = {"version", "quant_method", "sparsity_config", "transform_config"};
  const std::set<std::string> quant_keys = {"config_groups", "kv_cache_scheme", "format", "quantization_status",
                                            "global_compression_ratio", "ignore"};
  const bool quantized = qc.contains("config_groups");
  std::set<std::string> want = base_keys;
  if (quantized) want.insert(quant_keys.begin(), quant_keys.end());
  if (ct_keys(qc) != want) bad("quantization_config keys: " + qc.dump());
  if (qc.value("quant_method", "") != "compressed-tensors") bad("quant_method is not compressed-tensors");
  if (!qc.contains("version") || !qc["version"].is_string()) bad("version is not a string");
  if (!qc["transform_config"].is_object()) bad("transform_config is not an object");
  const nlohmann::json& sc = qc["sparsity_config"];
  if (!sc.is_object()) bad("sparsity_config is not an object");
  const bool sparse = sc.is_object() && !sc.empty();
  if (quantized == sparse) bad("expected exactly one of config_groups and a non-empty sparsity_config");

  // The linears of the architecture and their shapes (the Hugging Face module paths).
  const LlamaConfig lc = LlamaConfig::from_json(config.dump(), "config.json");
  CausalLM model(lc);
  std::map<std::string, std::vector<int64_t>> linear_shapes, other_params;
  for (const NamedParam& p : model.named_parameters()) {
    const bool weight = p.linear && p.tensor == &p.linear->weight;
    if (weight) linear_shapes[p.name.substr(0, p.name.size() - 7)] = p.shape;
    else other_params[p.name] = p.shape;
  }
  if (!lc.tie_word_embeddings) linear_shapes.erase("lm_head"), other_params["lm_head.weight"] = {lc.vocab_size, lc.hidden_size};

  std::set<std::string> ignore;
  std::vector<std::pair<std::vector<std::string>, nlohmann::json>> groups;  // targets, weights
  if (quantized) {
    if (qc.value("format", "") != "pack-quantized") bad("format is not pack-quantized");
    if (qc.value("quantization_status", "") != "compressed") bad("quantization_status is not compressed");
    for (const auto& i : qc["ignore"]) ignore.insert(i.get<std::string>());
    for (const auto& [name, g] : qc["config_groups"].items()) {
      if (ct_keys(g) != std::set<std::string>{"targets", "weights", "input_activations", "output_activations", "format"})
        bad("config group " + name + " keys: " + g.dump());
      if (!g["input_activations"].is_null() || !g["output_activations"].is_null()) bad(name + ": activations are quantized");
      if (g.value("format", "") != "pack-quantized") bad(name + ": format is not pack-quantized");
      const nlohmann::json& w = g["weights"];
      // QuantizationArgs forbids extra keys.
      if (ct_keys(w) != std::set<std::string>{"num_bits", "type", "symmetric", "group_size", "strategy", "block_structure",
                                              "dynamic", "actorder", "observer", "observer_kwargs"})
        bad(name + ": weights keys: " + w.dump());
      if (w["type"] != "int" || !w["num_bits"].is_number_integer() || w["num_bits"] < 1 || w["num_bits"] > 8)
        bad(name + ": not an int type of 1..8 bits");
      if (w["dynamic"] != false) bad(name + ": dynamic");
      const std::string strategy = w["strategy"];
      if (strategy == "group" && !(w["group_size"].is_number_integer() && w["group_size"] > 0)) bad(name + ": group without group_size");
      if (strategy == "channel" && !(w["group_size"].is_null() || w["group_size"] == -1)) bad(name + ": channel with a group_size");
      if (strategy != "group" && strategy != "channel") bad(name + ": strategy " + strategy);
      if (!w["actorder"].is_null() && (w["actorder"] != "group" || strategy != "group")) bad(name + ": actorder");
      std::vector<std::string> targets = g["targets"].get<std::vector<std::string>>();
      groups.emplace_back(targets, w);
    }
  } else if (sparse) {
    if (ct_keys(sc) != std::set<std::string>{"format", "targets", "ignore", "global_sparsity", "sparsity_structure",
                                             "registry_requires_subclass"})
      bad("sparsity_config keys: " + sc.dump());
    const std::string f = sc.value("format", "");
    if (f != "sparse-24-bitmask" && f != "sparse-bitmask") bad("sparsity format " + f);
    if (f == "sparse-24-bitmask" && sc.value("sparsity_structure", "") != "2:4") bad("sparse-24-bitmask without 2:4");
    for (const auto& i : sc["ignore"]) ignore.insert(i.get<std::string>());
    if (sc["targets"] != nlohmann::json{"Linear"}) bad("sparsity targets are not [Linear]");
  }

  const CheckpointReader reader(dir);
  std::set<std::string> expected;
  auto expect = [&](const std::string& name, safetensors::Dtype dtype, const std::vector<int64_t>& shape) {
    expected.insert(name);
    if (!reader.contains(name)) return bad("missing tensor " + name);
    const auto& info = reader.info(name);
    if (info.dtype != dtype)
      bad(fmt::format("{}: dtype {}, expected {}", name, safetensors::dtype_name(info.dtype), safetensors::dtype_name(dtype)));
    if (info.shape != shape) bad(fmt::format("{}: shape [{}], expected [{}]", name, fmt::join(info.shape, ","), fmt::join(shape, ",")));
  };
  auto expect_float = [&](const std::string& name, const std::vector<int64_t>& shape) {
    expected.insert(name);
    if (!reader.contains(name)) return bad("missing tensor " + name);
    const auto& info = reader.info(name);
    using safetensors::Dtype;
    if (info.dtype != Dtype::F32 && info.dtype != Dtype::F16 && info.dtype != Dtype::BF16) bad(name + ": not a float dtype");
    if (info.shape != shape) bad(fmt::format("{}: shape [{}], expected [{}]", name, fmt::join(info.shape, ","), fmt::join(shape, ",")));
  };
  using safetensors::Dtype;
  for (const auto& [name, shape] : other_params) expect_float(name, shape);
  for (const auto& [path, shape] : linear_shapes) {
    CtLayer L{path, shape[0], shape[1], "dense", nullptr};
    if (!ignore.count(path)) {
      if (quantized) {
        for (const auto& [targets, w] : groups)
          for (const auto& t : targets)
            if (t == "Linear" || t == path) L.kind = "quant", L.weights = w;
        if (L.kind != "quant") bad(path + ": neither ignored nor targeted");
      } else if (sparse) {
        L.kind = sc["format"] == "sparse-24-bitmask" ? "sparse24" : "sparse";
      }
    }
    const int64_t out = L.out, in = L.in;
    if (L.kind == "dense") {
      expect_float(path + ".weight", shape);
    } else if (L.kind == "quant") {
      const int bits = L.weights["num_bits"];
      const int pf = 32 / bits;
      const int64_t groups_n = L.weights["strategy"] == "channel" ? 1 : (in + L.weights["group_size"].get<int64_t>() - 1) /
                                                                       L.weights["group_size"].get<int64_t>();
      expect(path + ".weight_packed", Dtype::I32, {out, (in + pf - 1) / pf});
      expect_float(path + ".weight_scale", {out, groups_n});
      if (!L.weights["symmetric"].get<bool>()) expect(path + ".weight_zero_point", Dtype::I32, {(out + pf - 1) / pf, groups_n});
      if (!L.weights["actorder"].is_null()) expect(path + ".weight_g_idx", Dtype::I32, {in});
      expect(path + ".weight_shape", Dtype::I64, {2});
      if (reader.contains(path + ".weight_shape")) {
        at::Tensor s = reader.get(path + ".weight_shape");
        if (s[0].item<int64_t>() != out || s[1].item<int64_t>() != in) bad(path + ".weight_shape values");
      }
    } else {
      expect(path + ".bitmask", Dtype::U8, {out, (in + 7) / 8});
      int64_t nnz = -1;
      std::vector<int64_t> row_counts(static_cast<size_t>(out), 0);
      if (reader.contains(path + ".bitmask") && reader.info(path + ".bitmask").shape == std::vector<int64_t>{out, (in + 7) / 8}) {
        at::Tensor bm = reader.get(path + ".bitmask");
        const uint8_t* b = bm.data_ptr<uint8_t>();
        nnz = 0;
        for (int64_t i = 0; i < out; ++i)
          for (int64_t j = 0; j < in; ++j) {
            const bool kept = (b[i * ((in + 7) / 8) + j / 8] >> (j % 8)) & 1;
            row_counts[static_cast<size_t>(i)] += kept;
            nnz += kept;
          }
        if (L.kind == "sparse24")
          for (int64_t i = 0; i < out; ++i)
            for (int64_t g = 0; g < in / 4; ++g) {
              int kept = 0;
              for (int64_t j = 4 * g; j < 4 * g + 4; ++j) kept += (b[i * ((in + 7) / 8) + j / 8] >> (j % 8)) & 1;
              if (kept != 2) {
                bad(fmt::format("{}: row {} group {} keeps {} of 4", path, i, g, kept));
                return r;
              }
            }
      }
      if (L.kind == "sparse24") {
        expect_float(path + ".compressed", {out, in / 2});
        expect(path + ".shape", Dtype::I64, {2, 1});
      } else {
        expect_float(path + ".compressed", {nnz});
        expect(path + ".shape", Dtype::I64, {2});
        expect(path + ".row_offsets", Dtype::I64, {out});
        if (reader.contains(path + ".row_offsets")) {
          at::Tensor ro = reader.get(path + ".row_offsets");
          int64_t acc = 0;
          for (int64_t i = 0; i < out; ++i) {
            if (ro[i].item<int64_t>() != acc) bad(fmt::format("{}: row_offsets[{}]", path, i));
            acc += row_counts[static_cast<size_t>(i)];
          }
        }
      }
      if (reader.contains(path + ".shape")) {
        at::Tensor s = reader.get(path + ".shape").reshape({-1});
        if (s[0].item<int64_t>() != out || s[1].item<int64_t>() != in) bad(path + ".shape values");
      }
    }
    r.layers.push_back(L);
  }
  for (const auto& n : reader.names())
    if (!expected.count(n)) bad("unexpected tensor " + n);
  return r;
}

// The dense [out, in] fp32 weight of a layer, decoded from the stored bytes by the format's rules:
// unsigned field u of bits b -> q = u - 2^(b-1); w = (q - zp) * scale with zp = 0 when symmetric.
inline at::Tensor decode_ct_layer(const std::filesystem::path& dir, const CtLayer& L) {
  const CheckpointReader reader(dir);
  const std::string& p = L.path;
  const int64_t out = L.out, in = L.in;
  at::Tensor w = at::zeros({out, in}, at::kFloat);
  float* wp = w.data_ptr<float>();
  if (L.kind == "dense") return reader.get(p + ".weight").to(at::kFloat);
  if (L.kind == "quant") {
    const int bits = L.weights["num_bits"];
    const int pf = 32 / bits;
    const int64_t mid = int64_t{1} << (bits - 1);
    at::Tensor packed = reader.get(p + ".weight_packed");
    at::Tensor scale = reader.get(p + ".weight_scale").to(at::kFloat).contiguous();
    const int64_t groups_n = scale.size(1);
    const int64_t gs = L.weights["strategy"] == "channel" ? in : L.weights["group_size"].get<int64_t>();
    auto field = [&](const at::Tensor& t, int64_t row, int64_t word, int64_t k) {
      uint32_t u;
      std::memcpy(&u, static_cast<const char*>(t.data_ptr()) + 4 * (row * t.size(1) + word), 4);
      return static_cast<int64_t>((u >> (k * bits)) & ((1u << bits) - 1));
    };
    at::Tensor zp_packed = L.weights["symmetric"].get<bool>() ? at::Tensor() : reader.get(p + ".weight_zero_point");
    at::Tensor g_idx = L.weights["actorder"].is_null() ? at::Tensor() : reader.get(p + ".weight_g_idx");
    for (int64_t i = 0; i < out; ++i)
      for (int64_t j = 0; j < in; ++j) {
        const int64_t q = field(packed, i, j / pf, j % pf) - mid;
        const int64_t g = g_idx.defined() ? g_idx.data_ptr<int32_t>()[j] : j / gs;
        // Zero points are packed along the output dimension: word i / pf of column g.
        const int64_t zp = zp_packed.defined() ? field(zp_packed, i / pf, g, i % pf) - mid : 0;
        wp[i * in + j] = static_cast<float>(q - zp) * scale.data_ptr<float>()[i * groups_n + g];
      }
    return w;
  }
  at::Tensor bm = reader.get(p + ".bitmask");
  at::Tensor vals = reader.get(p + ".compressed").to(at::kFloat).contiguous().reshape({-1});
  const uint8_t* b = bm.data_ptr<uint8_t>();
  int64_t k = 0;
  for (int64_t i = 0; i < out; ++i)
    for (int64_t j = 0; j < in; ++j)
      if ((b[i * ((in + 7) / 8) + j / 8] >> (j % 8)) & 1) wp[i * in + j] = vals.data_ptr<float>()[k++];
  return w;
}

}  // namespace repro::test
