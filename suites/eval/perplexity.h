#pragma once
// Perplexity over non-overlapping windows, the GPTQ / SparseGPT convention: each window of T
// tokens contributes the mean next-token negative log-likelihood of its T-1 predictions, weighted
// as T tokens (nll * seqlen in their code); ppl = exp(sum / (n * T)) = exp(mean over windows).

#include <cstdint>

#include <ATen/core/Tensor.h>

#include "core/run_context.h"
#include "models/llama.h"

namespace repro {

// The sum over windows of each window's mean NLL of its T-1 next-token predictions.
// logits: [B, T, V] fp32; tokens: [B, T] int64, same device.
double window_nll_sum(const at::Tensor& logits, const at::Tensor& tokens);

struct PerplexityResult {
  double ppl = 0;
  double mean_nll = 0;  // per predicted token
  int64_t windows = 0;
  int64_t tokens = 0;   // windows * T
  double seconds = 0;
  double tokens_per_s = 0;
};

// windows: [n, T] int64 (CPU is fine; batches move to ctx.device()). The model must be on
// ctx.device(). Batches of `batch_size` windows; progress through ctx.
PerplexityResult evaluate_perplexity(const CausalLM& model, const at::Tensor& windows, int64_t batch_size,
                                     RunContext& ctx, const std::string& label = "ppl");

}  // namespace repro
