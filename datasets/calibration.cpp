#include "datasets/calibration.h"

#include <ATen/ATen.h>

#include <unordered_map>

#include <fmt/format.h>

#include "core/error.h"
#include "datasets/text_datasets.h"

namespace repro {

namespace {

void check_sizes(int64_t n, int64_t seqlen) {
  if (n < 1) throw ConfigError(fmt::format("number of calibration windows must be at least 1 (got {})", n));
  if (seqlen < 1) throw ConfigError(fmt::format("seqlen must be at least 1 (got {})", seqlen));
}

// Uniform integer in [0, high).
int64_t uniform(int64_t high, at::Generator& generator) {
  return at::randint(high, {1}, generator, at::kLong).item<int64_t>();
}

}  // namespace

at::Tensor sample_stream_windows(const at::Tensor& ids, int64_t n, int64_t seqlen, at::Generator generator) {
  check_sizes(n, seqlen);
  REPRO_ASSERT(ids.scalar_type() == at::kLong, "sample_stream_windows wants int64 ids");
  at::Tensor flat = ids.reshape({-1}).contiguous();
  int64_t numel = flat.numel();
  if (numel <= seqlen)
    throw DataError(fmt::format("the training text has {} tokens; calibration windows of seqlen {} need more",
                                numel, seqlen));
  at::Tensor starts = at::randint(numel - seqlen, {n}, generator, at::kLong);
  // [n, seqlen] gather: start_i + [0, seqlen)
  at::Tensor index = starts.unsqueeze(1) + at::arange(seqlen, at::kLong).unsqueeze(0);
  return flat.index_select(0, index.reshape({-1})).reshape({n, seqlen});
}

at::Tensor sample_document_windows(const std::vector<std::string>& documents, const Tokenizer& tokenizer,
                                   int64_t n, int64_t seqlen, at::Generator generator, bool add_bos) {
  check_sizes(n, seqlen);
  if (documents.empty()) throw DataError("no documents to draw calibration windows from");
  const int64_t ndocs = static_cast<int64_t>(documents.size());
  // Token counts of the documents tried so far; long documents keep their ids.
  std::unordered_map<int64_t, std::vector<int64_t>> long_docs;
  std::unordered_map<int64_t, int64_t> short_docs;
  const int64_t max_draws = 100 * n + 10000;
  int64_t draws = 0;

  at::Tensor out = at::empty({n, seqlen}, at::kLong);
  for (int64_t k = 0; k < n; ++k) {
    const std::vector<int64_t>* ids = nullptr;
    while (!ids) {
      if (short_docs.size() == documents.size() || ++draws > max_draws)
        throw DataError(fmt::format(
            "no document longer than seqlen {} tokens found ({} of {} documents tried, {} draws)", seqlen,
            short_docs.size() + long_docs.size(), ndocs, draws - 1));
      int64_t d = uniform(ndocs, generator);
      if (auto it = long_docs.find(d); it != long_docs.end()) {
        ids = &it->second;
      } else if (!short_docs.count(d)) {
        std::vector<int64_t> enc = tokenizer.encode(documents[static_cast<size_t>(d)], add_bos);
        if (static_cast<int64_t>(enc.size()) > seqlen)
          ids = &long_docs.emplace(d, std::move(enc)).first->second;
        else
          short_docs.emplace(d, static_cast<int64_t>(enc.size()));
      }
    }
    int64_t start = uniform(static_cast<int64_t>(ids->size()) - seqlen, generator);
    std::copy(ids->begin() + start, ids->begin() + start + seqlen, out[k].data_ptr<int64_t>());
  }
  return out;
}

at::Tensor calibration_windows(const std::string& dataset, const std::filesystem::path& data_dir,
                               const Tokenizer& tokenizer, int64_t n, int64_t seqlen, at::Generator generator,
                               const TokenizeOptions& options) {
  const auto& info = text_dataset_info(dataset);
  if (info.calibration_per_document) {
    TextDocuments docs = load_c4_documents(text_dataset_dir(dataset, data_dir, "train"), "train");
    try {
      return sample_document_windows(docs.documents, tokenizer, n, seqlen, generator, options.add_bos);
    } catch (const DataError& e) {
      throw DataError(fmt::format("{} ({}): {}", docs.name, docs.source.string(), e.what()));
    }
  }
  TextSplit split = load_text_split(dataset, data_dir, "train");
  try {
    return sample_stream_windows(tokenize_split(split, tokenizer, options), n, seqlen, generator);
  } catch (const DataError& e) {
    throw DataError(fmt::format("{} ({}): {}", split.name, split.source.string(), e.what()));
  }
}

}  // namespace repro
