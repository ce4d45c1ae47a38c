#pragma once
// Zero-shot multiple-choice evaluation as lm-evaluation-harness does it: for every choice, the
// summed log-likelihood of its continuation tokens given its context; acc = argmax, acc_norm =
// argmax of log-likelihood / character length of the choice.

#include <cstdint>
#include <string>
#include <vector>

#include "core/run_context.h"
#include "datasets/mc_metrics.h"
#include "datasets/zero_shot.h"
#include "models/llama.h"
#include "models/tokenizer.h"

namespace repro {

struct ZeroShotOptions {
  bool add_bos = true;        // lm-eval >= 0.4.9.2 encodes with the tokenizer's default (LLaMA: BOS)
  int64_t max_length = 2048;  // left-truncation of context + continuation (the model's context)
  int64_t batch_size = 16;    // sequences per forward
};

// Log-likelihood of every choice of every request: result[r][c]. The model must be on ctx.device().
std::vector<std::vector<double>> choice_loglikelihoods(const CausalLM& model, const Tokenizer& tokenizer,
                                                       const std::vector<McRequest>& requests,
                                                       const ZeroShotOptions& options, RunContext& ctx,
                                                       const std::string& label = "zero-shot");

}  // namespace repro
