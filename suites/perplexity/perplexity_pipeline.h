#pragma once
// The perplexity suite's model stages, shared by the suite's rows and by `repro compress` /
// `repro eval`, so that a model compressed on the command line is the model a table row measures:
//
//   load_lm            model + tokenizer of a folder or zoo:NAME, and the folder's identity
//   compress_row       the row's transforms (in order), then its compressor through the layer-wise
//                      engine (with its refiner), calibrated on `nsamples` windows of the
//                      `calibration` dataset drawn from ctx.generator("calibration")
//   dataset_perplexity test perplexity on one text dataset
//
// The row's suite parameters (seqlen, nsamples, calib_seqlen, calibration, order, calib_batch,
// hessian_cache, input_samples, eval_windows, eval_batch) are those of the perplexity suite.

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/run_context.h"
#include "core/table_spec.h"
#include "datasets/token_windows.h"
#include "methods/api/layer_compressor.h"
#include "models/llama.h"
#include "models/tokenizer.h"
#include "suites/engine/layerwise_engine.h"
#include "suites/eval/perplexity.h"

namespace repro {

// The data folder of a run: --data-dir, else <project>/data.
std::filesystem::path perplexity_data_dir(const RunContext& ctx);

struct LoadedLM {
  std::unique_ptr<CausalLM> model;
  std::unique_ptr<Tokenizer> tokenizer;
  nlohmann::json identity;                  // model_identity(): {"name", "path", "sha256"}
  std::unique_ptr<TokenCache> token_cache;  // <cache>/tokens; null without a cache folder
  TokenizeOptions tokenize;                 // points into token_cache

  std::filesystem::path dir() const { return identity["path"].get<std::string>(); }
};

// Loads `spec` (a Hugging Face folder or zoo:NAME) on the CPU in ctx.dtype(), timed as "load" and metered as the "load" memory phase.
// ModelError / DataError naming the folder when the model or its tokenizer cannot be read.
LoadedLM load_lm(const std::string& spec, RunContext& ctx);
// The same for a folder already identified (model_identity(), which hashes every weight file).
LoadedLM load_lm_identified(const nlohmann::json& identity, RunContext& ctx);

// What compress_row did.
struct RowCompression {
  bool compressed = false;               // the row has a compressor
  std::optional<EngineReport> report;    // its engine report
  std::string transforms_spec = "none";  // "<canonical>@<version>+..." of the transforms applied
  bool calibrated = false;               // calibration windows were drawn
  std::string calibration_tokens_sha256; // sha256 of the [n, T] int64 windows (when calibrated)
  int64_t calibration_samples = 0, calibration_seqlen = 0;
};

// Hooks for callers that watch or check the pipeline (all optional).
struct RowCompressionHooks {
  // After the transforms, before any compressor runs: may throw to stop early (e.g. when a
  // checkpoint format cannot hold what the transforms installed).
  std::function<void(CausalLM& model)> after_transforms;
  // The configured compressor, before it runs on the model: may throw (a format check).
  std::function<void(LayerCompressor& compressor, const CausalLM& model)> before_compress;
  BlockDone on_block;  // after each block (engine)
};

// The calibration parameters compress_row reads (calibration, nsamples, calib_seqlen, order,
// calib_batch, hessian_cache, input_samples), declared once for every suite that runs the pipeline;
// the suite declares `seqlen` (calib_seqlen 0 falls back to it) and its evaluation parameters.
std::vector<ParamSpec> calibration_params();

// Whether any stage of `row` reads calibration data (transforms, refiners, and compressors that
// need a Hessian or inputs).
bool row_needs_calibration(const RowSpec& row);

// Applies `row`'s transforms and compressor (+ refiner) to lm.model in place, exactly as a
// perplexity-suite row does: the compression runs in the "compress" memory phase of ctx.
// ConfigError when the row has a refiner without a compressor.
RowCompression compress_row(LoadedLM& lm, const RowSpec& row, RunContext& ctx, const RowCompressionHooks& hooks = {});

// Test perplexity of lm.model (moved to ctx.device() by the caller) on `dataset`'s evaluation
// split: windows of `seqlen` tokens, at most `max_windows` of them (0: the dataset's default),
// `eval_batch` per forward. Timed as "tokenize" and "eval"; NonFiniteError naming the first
// non-finite parameter when the perplexity is NaN/Inf.
PerplexityResult dataset_perplexity(CausalLM& model, const Tokenizer& tokenizer, const TokenizeOptions& tokenize,
                                    const std::string& dataset, int64_t seqlen, int64_t max_windows,
                                    int64_t eval_batch, RunContext& ctx);

}  // namespace repro
