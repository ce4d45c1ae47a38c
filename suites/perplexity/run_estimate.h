#pragma once
// What a perplexity row will need before it runs (`repro reproduce --dry-run`, and beside the
// measured numbers in every streamed row's record): peak host memory and wall time, from the
// model's config.json, the calibration and evaluation settings and the compressor's cost model
// (LayerCompressor::solve_flops / solve_bytes). A planning estimate: each part is listed so a
// reader can see which one dominates, and the record puts the measured values beside it.
//
// Memory of a streamed row (the whole model is never in memory) is the largest of three moments:
//   embed: the embedding matrix (stored copy + converted) and every activation buffer;
//   block: one block's weights, its calibration Hessians, the largest layer's solver workspace,
//          the calibration and evaluation activations, one batch's forward working set;
//   head:  the final norm and lm_head, the evaluation activations, one batch of fp32 logits.
// An in-memory row adds the whole model to the block moment instead of one block.
// Time: calibration forwards (two passes per block in parallel order: the dense block for the
// Hessians, the compressed block for the next block's inputs; one more per input group in
// sequential order), the solves, and the evaluation forward, at a GEMM rate measured on this
// machine (measure_gemm_gflops); solvers run below the GEMM rate, so their time is a lower bound.

#include <cstdint>
#include <string>

#include <c10/core/ScalarType.h>
#include <nlohmann/json.hpp>

#include "models/llama_config.h"

namespace repro {

class LayerCompressor;

struct RunPlan {
  LlamaConfig config;
  c10::ScalarType dtype = at::kFloat;         // compute dtype of the weights and activations
  int64_t stored_itemsize = 4;                // bytes per value in the checkpoint files
  bool streamed = true;
  const LayerCompressor* compressor = nullptr;  // null: no compression
  bool needs_calibration = false;
  bool sequential_order = false;
  bool refiner = false;
  int64_t calib_samples = 0, calib_seqlen = 0, calib_batch = 8;
  int64_t eval_windows = 0, seqlen = 0, eval_batch = 8;
};

struct RunEstimate {
  double peak_mb = 0;       // host, including base_mb
  double seconds = 0;       // calibration + solves + evaluation
  double base_mb = 0;       // the process before the row (libraries, tokenizer)
  double gemm_gflops = 0;   // the rate the times assume
  bool solve_time_known = true;  // false when the compressor has no cost model
  nlohmann::json parts;     // {"memory_mb": {...}, "seconds": {...}}
  nlohmann::json to_json() const;
  std::string summary() const;  // "~5.10 GiB peak host memory (block moment), ~62.0 min (calibration ...)"
};

// plan -> estimate. base_mb: the resident memory the row starts from; gemm_gflops: measured.
RunEstimate estimate_run(const RunPlan& plan, double base_mb, double gemm_gflops);

// fp32 GEMM throughput of this machine with the current thread count: a few 1024^3 products,
// about a quarter of a second.
double measure_gemm_gflops();

}  // namespace repro
