#pragma once
// The layer-wise compression engine shared by every LLM compression method (GPTQ, SparseGPT, ALPS,
// 3BASiL, ...): sequential calibration over decoder blocks, in stages.
//
//   [transforms: applied to the model by the caller before this runs; their spec is in every
//    Hessian cache key]
//   hidden = embed(calibration windows)
//   for each block i:
//     run the still-dense block on `hidden`, accumulating H = (2/n) sum x x^T for the input of
//       each group of linears that read one input (DecoderBlock::input_groups()); with a refiner,
//       the dense block's outputs are kept as its targets; with needs_inputs(), a seeded subset of
//       each group's input rows is kept for the compressor;
//     compress every linear from (W, H[, X]) with the row's LayerCompressor;
//     refine: the row's BlockRefiner trains the compressed block against the dense targets;
//     hidden = compressed block(hidden)   (the next block calibrates on compressed activations)
//
// Order "parallel" (default, the HASSLE-free / 3BASiL convention): one pass of the dense block
// collects every Hessian. Order "sequential" (the GPTQ repo's true-sequential): each input group
// is calibrated after the earlier groups are compressed.
//
// Fake quantization installed by act_quant (ForwardSim) is paused while the engine runs, unless its
// calib_quant is set; online rotations stay on.
//
// Only the current block and the activations live on the device; the rest of the model stays on
// the CPU. With a BlockStream (EngineOptions::stream) the rest of the model is not in memory at
// all: each block is read from the checkpoint before it is calibrated and handed back to the stream
// once final, which is how an 8B or 70B model compresses in about one block's memory.
// Data-free compressors (magnitude, RTN) without a refiner skip calibration entirely.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include "core/run_context.h"
#include "methods/api/block_refiner.h"
#include "methods/api/layer_compressor.h"
#include "methods/api/model_transform.h"
#include "models/llama.h"

namespace repro {

// Where the engine's pieces come from when the model does not live in memory (a StreamedModel,
// models/streamed_model.h): the engine asks for each block before it touches it and hands it back
// once it is compressed, refined and has produced the next block's calibration inputs.
class BlockStream {
 public:
  virtual ~BlockStream() = default;
  // tokens: [n, T] int64 -> hidden [n, T, D] in the model's dtype, CPU (loads and releases the
  // embeddings).
  virtual at::Tensor embed(CausalLM& model, const at::Tensor& tokens) = 0;
  virtual void load_block(CausalLM& model, int64_t i) = 0;
  // Block i is final (compressed, refined; still on the engine's device): use it, then release it.
  virtual void block_done(CausalLM& model, int64_t i) = 0;
  virtual c10::ScalarType dtype() const = 0;
};

struct EngineReport;
// Called after each block is compressed (and refined): its index and the report so far, whose last
// DecoderBlock::linear_names().size() layers are that block's (progress lines of `repro compress`).
using BlockDone = std::function<void(int64_t block, const EngineReport& so_far)>;

struct EngineOptions {
  std::string order = "parallel";  // "parallel" | "sequential"
  int64_t batch_size = 8;          // calibration sequences per block forward
  // Hessian cache: "all" blocks, only the "first" (the part every row shares) or "off".
  std::string hessian_cache = "all";
  std::filesystem::path cache_dir;           // <cache>/hessians; empty disables the cache
  std::string model_fingerprint;             // identity of the weights (part of the cache key)
  std::string calibration_fingerprint;       // identity of the calibration tokens
  std::string upstream_spec;                 // canonical compressor (+ refiner) spec
  std::string transforms_spec;               // canonical spec of the transforms applied before
                                             // (part of every cache key, block 0's too)
  int64_t input_samples = 4096;              // input rows (tokens) per layer for needs_inputs()
  bool keep_hessians = false;                // return every layer's H in the report (tests, analysis)
  BlockStream* stream = nullptr;             // streaming: blocks loaded one at a time (null: in memory)
  BlockDone on_block;                        // optional
};

struct LayerOutcome {
  std::string name;         // "model.layers.3.mlp.down_proj"
  StorageStats stats;
  double rel_error = -1;    // tr(dW H dW^T) / tr(W H W^T) on the calibration data (-1: no H)
  double seconds = 0;
};

struct EngineReport {
  std::vector<LayerOutcome> layers;
  double calibrate_s = 0, compress_s = 0;
  int64_t cache_hits = 0, cache_misses = 0;
  double refine_s = 0;
  double activations_mb = 0;  // calibration activations held on the device
  double targets_mb = 0;      // dense block outputs kept for the refiner (0 without one)
  double inputs_mb = 0;       // largest set of input samples kept for a needs_inputs() compressor
  double max_block_mb = 0;    // largest block moved to the device
  std::map<std::string, at::Tensor> hessians;  // layer name -> H (CPU), when keep_hessians

  // Storage over all compressed linears: bits per weight, kept fraction (nnz + low-rank params).
  double bits_per_weight() const;
  double params_kept() const;
  nlohmann::json to_json() const;
};

// calibration: [n, T] int64 token windows. Compresses every linear of every block in place
// (Linear::compressed is set; the dense weight is released), then refines each block when
// `refiner` is given. The model's parameters may be on the CPU; each block visits ctx.device()
// and returns to where it was.
EngineReport compress_model(CausalLM& model, const at::Tensor& calibration, LayerCompressor& compressor,
                            const EngineOptions& options, RunContext& ctx, BlockRefiner* refiner = nullptr);

// Data-free compression (no Hessian, no refiner): every linear compressed from W alone.
EngineReport compress_model_data_free(CausalLM& model, LayerCompressor& compressor, RunContext& ctx,
                                      BlockStream* stream = nullptr, const BlockDone& on_block = {});

}  // namespace repro
