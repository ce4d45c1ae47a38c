#pragma once
// Next-token training of a CausalLM on a token stream: AdamW, linear warmup + cosine decay,
// gradient clipping, periodic held-out evaluation, and checkpoints that make an interrupted run
// resume exactly where it stopped (weights, optimizer moments, step; batches are drawn from a
// generator seeded by (seed, step), so the resumed run sees the batches the original would have).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "core/run_context.h"
#include "models/llama.h"

namespace repro {

struct TrainOptions {
  int64_t seqlen = 256;
  int64_t batch_size = 32;
  int64_t steps = 1000;
  int64_t warmup = 100;
  double lr = 2e-3, min_lr = 2e-4;
  double weight_decay = 0.1;
  double grad_clip = 1.0;
  int64_t eval_every = 200;        // held-out perplexity every N steps (and at the end)
  int64_t checkpoint_every = 100;  // resumable checkpoint every N steps
  uint64_t seed = 0;
  // Stop (after a checkpoint) once this many steps are done, 0: run to `steps`. For time-boxed
  // sessions: the next call resumes. Not part of what a checkpoint must match.
  int64_t stop_after = 0;
};

struct TrainLogPoint {
  int64_t step = 0;
  double lr = 0, train_loss = 0, valid_ppl = 0;  // valid_ppl = 0 when not evaluated at this step
  double elapsed_s = 0;
};

struct TrainResult {
  int64_t steps = 0;        // steps done so far (== options.steps when finished)
  bool finished = false;
  double final_valid_ppl = 0;
  std::vector<TrainLogPoint> log;  // the whole run, including steps before a resume
};

// train_ids: [N] int64 CPU token stream; valid_windows: [n, seqlen] int64 held-out windows.
// work_dir holds checkpoint/ (model + optimizer + state.json) and log.csv; an existing
// checkpoint with the same options is resumed, one with different options is an error.
TrainResult train_causal_lm(CausalLM& model, const at::Tensor& train_ids, const at::Tensor& valid_windows,
                            const TrainOptions& options, const std::filesystem::path& work_dir, RunContext& ctx);

// Mean next-token cross-entropy of `model` on windows [n, T] (T-1 predictions each), batched, no grad.
double mean_next_token_loss(const CausalLM& model, const at::Tensor& windows, int64_t batch_size);

}  // namespace repro
