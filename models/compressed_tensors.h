#pragma once
// Writing a compressed CausalLM in the compressed-tensors format: the on-disk layout that
// llm-compressor writes and vLLM serves (github.com/neuralmagic/compressed-tensors, followed at
// release 0.12.2: compressors/quantized_compressors/pack_quantized.py,
// compressors/sparse_compressors/sparse_24_bitmask.py and sparse_bitmask.py, quantization/
// quant_args.py, quant_config.py, compressors/model_compressors/model_compressor.py).
//
// A Hugging Face folder (config.json + model.safetensors) in which each compressed linear at path P
// replaces P.weight by:
//
//   pack-quantized (weight-only int, "W4A16"/"W8A16"; vLLM serves 4 and 8 bits)
//     P.weight_packed      int32 [out, ceil(in / (32/b))]  signed code q + 2^(b-1), value i of a word
//                                                         in bits [i*b, (i+1)*b), zero-padded
//     P.weight_scale       dtype [out, groups]             one scale per group (strategy "group") or
//                                                         per row ("channel", groups = 1)
//     P.weight_zero_point  int32 [ceil(out / (32/b)), groups]  asymmetric only: signed zero point
//                                                         zp + 2^(b-1), packed the same way along rows
//     P.weight_g_idx       int32 [in]                      only with actorder "group": column -> group
//     P.weight_shape       int64 [2]                       [out, in]
//   dequantized as w = (q - zp) * scale (zp = 0 when symmetric).
//
//   sparse-24-bitmask (every group of 4 consecutive inputs keeps at most 2)
//     P.compressed  dtype [out, in / 2]   the kept values, row-major
//     P.bitmask     uint8 [out, ceil(in / 8)]  kept positions, 8 per byte, least significant bit first
//     P.shape       int64 [2, 1]
//   sparse-bitmask (unstructured)
//     P.compressed  dtype [nnz]   the nonzeros, row-major;  P.bitmask as above;
//     P.shape       int64 [2];    P.row_offsets  int64 [out]  index of each row's first value
//
// and config.json gains "quantization_config" with quant_method "compressed-tensors", version,
// format, config_groups (targets, weights {num_bits, type, symmetric, group_size, strategy,
// block_structure, dynamic, actorder, observer, observer_kwargs}, input/output_activations, format),
// ignore, kv_cache_scheme, quantization_status "compressed", global_compression_ratio,
// sparsity_config {format, targets, ignore, global_sparsity, sparsity_structure,
// registry_requires_subclass} and transform_config.
//
// Conversion from ReproBench codes: QuantCodes hold c in 0..2^b-1 with w = s (c - z); the format's
// signed code is q = c - 2^(b-1) and its zero point zp = z - 2^(b-1), so w = s (q - zp) is the same
// number and the stored unsigned fields are exactly c and z. Symmetric grids here have
// z = 2^(b-1), i.e. zp = 0, which the format leaves out.
//
// What the format cannot hold is refused (NotSupported), never approximated: low-rank factors,
// sparse and quantized at once (llm-compressor writes that as marlin-24, a kernel-specific layout),
// zero points that are not integers in 0..2^b-1, per-layer mixes of quantized and sparse layers.

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include "models/compressed_linear.h"
#include "models/llama.h"

namespace repro::compressed_tensors {

// The compressed-tensors release whose layout this writer follows (config.json "version").
inline constexpr const char* kVersion = "0.12.2";

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// pack_to_int32: codes [rows, cols] uint8 (values < 2^bits, already offset to unsigned), bits in
// 1..8 -> [rows, ceil(cols / (32 / bits))] int32, value j of a row in word j / (32/bits) at bit
// offset (j % (32/bits)) * bits; unused high bits and padding are 0. CPU.
at::Tensor pack_int32(const at::Tensor& codes, int bits);
// The inverse: [rows, words] int32 -> [rows, cols] uint8.
at::Tensor unpack_int32(const at::Tensor& packed, int bits, int64_t cols);
// numpy.packbits(mask, axis=-1, bitorder="little"): [rows, cols] bool -> [rows, ceil(cols/8)] uint8.
at::Tensor pack_bitmask(const at::Tensor& mask);

// The quantization "weights" arguments of a layer's codes (QuantizationArgs as model_dump writes it).
nlohmann::json quant_args(const QuantCodes& q);

// One layer's tensors under `path` (no ".weight"), in `dtype` for scales and values.
// NotSupported when the codes do not fit the format (see above).
NamedTensors pack_quantized_layer(const std::string& path, const QuantCodes& q, c10::ScalarType dtype);
// weight: [out, in]; mask: [out, in] bool with at most 2 kept per group of 4 (in % 4 == 0). Groups
// with fewer than 2 kept are filled with zeros at their first free positions (the format stores
// exactly 2 per group).
NamedTensors sparse24_bitmask_layer(const std::string& path, const at::Tensor& weight, const at::Tensor& mask,
                                    c10::ScalarType dtype);
// weight: [out, in]; the nonzeros of weight (after conversion to dtype) are stored.
NamedTensors sparse_bitmask_layer(const std::string& path, const at::Tensor& weight, c10::ScalarType dtype);

// Writes config.json (with quantization_config) and model.safetensors into `dir`. Plain
// parameters and scales in `dtype`. NotSupported (naming the layer and what it holds) when a
// compressed linear has no compressed-tensors form, or the model runs forward hooks (ForwardSim).
void save_compressed_tensors(CausalLM& model, const std::filesystem::path& dir, c10::ScalarType dtype);

}  // namespace repro::compressed_tensors
