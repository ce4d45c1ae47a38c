#pragma once
// The perplexity suite's streamed path (suite parameter `streaming`): a row whose model does not
// fit in memory compresses and evaluates it block by block from its checkpoint
// (models/streamed_model.h). Embeddings, each decoder block and the head are read, used and
// released in turn; the evaluation windows travel through the model with the calibration windows,
// so no block is read twice and nothing is written to disk:
//
//   calibration hidden, eval hidden = embed(...)                       (then the embeddings go)
//   for each block i: load; calibrate + compress (layer-wise engine); run the eval hidden through
//                     the compressed block; release
//   load the head; perplexity from the eval hidden; release
//
// Each block's evaluation input is the previous compressed block's output, exactly as in a full
// forward of the compressed model, so the perplexity equals the in-memory row's (tests check it).
// Not streamed: transforms (they change the whole model at once) and zero-shot tasks.

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "core/record.h"
#include "core/run_context.h"
#include "core/table_spec.h"
#include "suites/perplexity/run_estimate.h"

namespace repro {

// Whether a row streams: `mode` "on", "off", or "auto" (when the checkpoint's weights in the
// row's dtype would take more than 40% of this machine's memory).
bool row_streams(const std::string& mode, const std::filesystem::path& model_dir, c10::ScalarType dtype);

// The estimate's inputs for a perplexity row (eval windows: the row's eval_windows, or the
// dataset's size in tokens / seqlen as the tokenizer reports it).
RunPlan perplexity_run_plan(const RowSpec& row, RunContext& ctx, const std::filesystem::path& model_dir, bool streamed);

// Runs the row streamed. model_id: model_identity() of the row's model.
Record run_streamed_row(const RowSpec& row, RunContext& ctx, const nlohmann::json& model_id);

}  // namespace repro
