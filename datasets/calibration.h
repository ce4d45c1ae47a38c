#pragma once
// Calibration windows: `n` random windows of `seqlen` tokens from a training split, drawn from a
// seeded generator (same seed, same windows). Two conventions, as in GPTQ / SparseGPT
// `datautils.py`:
//   stream   (wikitext2, ptb, embedded): the split is tokenized once; each window starts at a
//            uniform position in [0, numel - seqlen - 1] (Python's randint(0, numel - seqlen - 1)).
//   document (c4): pick a uniform random document; retry until its tokenization is longer than
//            seqlen; then a uniform start in [0, len - seqlen - 1] of that document.
// The draws come from ATen (at::randint) on the given CPU generator, so the windows are not the
// ones Python's `random` would pick, only drawn the same way.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include "datasets/token_windows.h"
#include "models/tokenizer.h"

namespace repro {

// ids: [numel] int64 -> [n, seqlen] int64. numel <= seqlen -> DataError; n, seqlen < 1 -> ConfigError.
at::Tensor sample_stream_windows(const at::Tensor& ids, int64_t n, int64_t seqlen, at::Generator generator);

// documents -> [n, seqlen] int64. Each document is tokenized at most once (add_bos as in
// `tokenizer(doc)`). DataError when no document is longer than seqlen tokens (checked once every
// document has been tried, or after 100 * n + 10000 draws without success).
at::Tensor sample_document_windows(const std::vector<std::string>& documents, const Tokenizer& tokenizer,
                                   int64_t n, int64_t seqlen, at::Generator generator, bool add_bos = true);

// By dataset name (text_datasets.h): loads the train split from `data_dir` and applies the
// dataset's convention. [n, seqlen] int64, CPU.
at::Tensor calibration_windows(const std::string& dataset, const std::filesystem::path& data_dir,
                               const Tokenizer& tokenizer, int64_t n, int64_t seqlen, at::Generator generator,
                               const TokenizeOptions& options = {});

}  // namespace repro
