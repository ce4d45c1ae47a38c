#pragma once
// Writing a compressed model to disk and reading it back for evaluation (`repro compress`,
// `repro eval`). Three formats:
//
//   hf                  a plain Hugging Face folder with the dense reconstructed weights
//                       (models/llama_io.h): transformers and any HF tool load it
//   compressed-tensors  the layout llm-compressor writes and vLLM serves (models/compressed_tensors.h):
//                       pack-quantized int weights, or 2:4 / unstructured sparse bitmasks
//   compact             ReproBench's own compressed form (models/compact_checkpoint.h): sparse values
//                       + mask, packed codes + scales, low-rank factors; loads back bit for bit
//
// Every folder also gets the source model's tokenizer files and a recipe.toml (make_recipe).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <c10/core/ScalarType.h>
#include <nlohmann/json.hpp>

#include "core/run_context.h"
#include "core/table_spec.h"
#include "core/value.h"
#include "methods/api/layer_compressor.h"
#include "models/llama.h"
#include "suites/perplexity/perplexity_pipeline.h"

namespace repro {

enum class ExportFormat { Hf, CompressedTensors, Compact };

// "hf" (or "dense"), "compressed-tensors", "compact"; ConfigError naming the choices otherwise.
ExportFormat parse_export_format(const std::string& name);
std::string export_format_name(ExportFormat format);

// The dtype plain parameters are written in when the user gives none: float32 for hf and compact
// (the reloaded model then computes what the in-memory one did), and for compressed-tensors the
// source's 16-bit torch_dtype (float16 / bfloat16, what vLLM's kernels take), else bfloat16.
c10::ScalarType default_export_dtype(ExportFormat format, const CausalLM& source);

// ConfigError when a transform left the model computing something its weights alone do not hold
// (online rotations, activation or KV-cache fake quantization): no format here stores that.
void check_forward_exportable(ExportFormat format, const CausalLM& model);

// For compressed-tensors, before the model is compressed: runs `compressor` on one probe layer
// (block 0's first linear, at most 64 of its rows, on a random well-conditioned Hessian and random
// inputs) and throws ConfigError when its output has no compressed-tensors form (low-rank
// factors, sparse + quantized, plain weights, a quantization grid the format cannot express).
// `pipeline` names the method in the message; codes of other than 4 or 8 bits get a warning (vLLM
// serves those). No-op for the other formats.
void check_compressor_exportable(ExportFormat format, LayerCompressor& compressor, CausalLM& model,
                                 const std::string& pipeline, RunContext& ctx);

// Writes `model` to `dir` in `format` (plain parameters in `dtype`) and copies the tokenizer files
// of `source_dir`. Model files of any format already in `dir` are removed first. A compressed linear the format cannot hold -> ConfigError naming the layer.
void write_exported_model(CausalLM& model, ExportFormat format, const std::filesystem::path& dir,
                          c10::ScalarType dtype, const std::filesystem::path& source_dir);

// What a model folder holds: "compact" (compression.json), "compressed-tensors" (config.json with
// a quantization_config) or "hf". ModelError when the folder or its config.json is missing.
std::string detect_model_format(const std::filesystem::path& dir);

// Loads an hf or compact folder on the CPU (plain parameters in `dtype`). ConfigError for a
// compressed-tensors folder (serve it with vLLM, or write hf / compact for `repro eval`).
std::unique_ptr<CausalLM> load_exported_model(const std::filesystem::path& dir, c10::ScalarType dtype,
                                              std::string* format = nullptr);

// Total size of the regular files directly in `dir` (bytes).
uint64_t folder_bytes(const std::filesystem::path& dir);

// What recipe.toml records.
struct ExportRecipe {
  ExportFormat format = ExportFormat::Compact;
  std::string dtype;                 // of the plain parameters written
  const RowSpec* row = nullptr;      // the validated pipeline row (perplexity suite)
  nlohmann::json source;             // model_identity() of the source
  const RowCompression* compression = nullptr;
  std::string calibration_files_sha256;  // dataset_files_sha256 of the calibration split
  uint64_t seed = 0;
  std::string device;
  uint64_t bytes = 0;                // of the written folder, before recipe.toml
  std::string eval_dataset;          // optional: the in-memory compressed model's perplexity
  std::optional<double> eval_ppl;
  int64_t eval_windows = 0;
  std::string command;               // the command line that wrote it
};

// The recipe as a table, written to recipe.toml with to_toml (keys sorted):
//   format, dtype, pipeline (canonical, every default filled), command, created (UTC),
//   [reprobench] git, libtorch      [source] model, path, sha256
//   [[components]] slot, method, version, spec, params = {every parameter}
//   [calibration] used, dataset, files_sha256, tokens_sha256, samples, seq_len, seed, order,
//                 batch, input_samples, hessian_cache
//   [storage] bits_per_weight, params_kept, bytes       [eval] dataset, ppl, windows, seq_len
Value make_recipe(const ExportRecipe& recipe);

}  // namespace repro
