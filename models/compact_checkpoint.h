#pragma once
// ReproBench's compact checkpoint: a compressed CausalLM stored in its compressed form, so that
// loading it gives back the very CompressedLinear objects the pipeline produced (the same forward,
// the same perplexity to the last bit) at close to the storage the pipeline reports. A folder:
//
//   config.json             the model's Hugging Face config (architecture, torch_dtype)
//   compressed.safetensors  every tensor below (metadata format=reprobench-compact)
//   compression.json        {"format": "reprobench-compact", "version": 1, "dtype": "float32",
//                            "layers": {"<linear path>": {"shape": [out, in], "parts": [...], ...}}}
//
// Parameters that are not compressed linears (embeddings, norms, biases, lm_head, linears left
// dense) are stored under their Hugging Face names in `dtype`. A compressed linear at path P
// ("model.layers.0.self_attn.q_proj") stores the parts it has, all little-endian, row-major:
//
//   P.dense               [out, in] fp32        a plain weight (neither sparse nor quantized)
//   P.sparse.mask         [out, ceil(in/8)] u8  the mask's bits, row by row, least significant bit
//                                               first (pack_codes with 1 bit)
//   P.sparse.values       [nnz] fp32            the kept values in row-major order (absent when the
//                                               sparse part is quantized: the codes hold it)
//   P.quant.codes         u8, pack_codes(bits)  [out, ceil(in*bits/8)] without a mask; with a mask
//                                               only the kept codes, row-major: [1, ceil(nnz*bits/8)]
//   P.quant.scales        [out, groups] fp32
//   P.quant.zeros         [out, groups] u8 when every zero is an integer in 0..255, else fp32
//   P.quant.g_idx         [in] i32              only when the codes carry a column -> group map
//   P.low_rank.U, .V      [out, r], [r, in] fp32
//
// and compression.json records per layer: "parts" (a subset of dense, sparse, quant, low_rank),
// "shape", "pattern" ([n, m]; [0, 0] unstructured; recovered from the mask and the layer's storage
// count, exact for power-of-two M) and for quant "bits", "group_size", "symmetric". A layer loads
// back with the same storage statistics (bits per weight) it reported.
// Values stay fp32 because the compressed forms are fp32 in memory: a 16-bit copy would change the
// model. Perplexity recomputed from the loaded model therefore equals the in-memory one exactly.

#include <filesystem>
#include <memory>

#include <c10/core/ScalarType.h>

#include "models/llama.h"

namespace repro {

inline constexpr const char* kCompactFormat = "reprobench-compact";
inline constexpr int kCompactVersion = 1;

// Whether `dir` holds a compact checkpoint (has compression.json).
bool is_compact_checkpoint(const std::filesystem::path& dir);

// Writes config.json, compressed.safetensors and compression.json into `dir` (created). Plain
// parameters are written in `dtype`. Each file is written atomically. NotSupported when a block
// runs online rotations or fake quantization (ForwardSim): the format has no place for them.
void save_compact_checkpoint(CausalLM& model, const std::filesystem::path& dir, c10::ScalarType dtype = at::kFloat);

// Loads a compact checkpoint on the CPU: plain parameters in `dtype`, compressed linears as
// CompressedLinear (fp32). ModelError naming the file and tensor when a tensor is missing, has the
// wrong shape or dtype, or when compression.json is malformed or of another version.
std::unique_ptr<CausalLM> load_compact_checkpoint(const std::filesystem::path& dir, c10::ScalarType dtype = at::kFloat);

// Throws NotSupported naming the first block whose ForwardSim is not the identity (rotations or
// fake quantization) and `format`: checkpoint formats hold weights, not those runtime hooks.
void require_plain_forward(const CausalLM& model, const std::string& format);

}  // namespace repro
