#pragma once
// Text datasets by name: "wikitext2", "c4", "ptb", "embedded". One place that knows, for each, where
// its files live under a data folder, which split the papers evaluate, and how calibration
// windows are drawn.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "datasets/text_corpus.h"

namespace repro {

struct TextDatasetInfo {
  std::string name;         // "wikitext2"
  std::string summary;      // one line
  std::string subdir;       // looked for under the data folder ("wikitext-2-raw"), else the folder itself
  std::vector<std::string> files;  // the files of the splits, for messages
  std::string eval_split;   // the split perplexity is reported on: "test" ("validation" for c4)
  std::optional<int64_t> eval_max_windows;  // c4: 256 (GPTQ keeps 256 * seqlen tokens)
  bool calibration_per_document = false;    // c4: windows come from single documents
  std::string join;         // the joining convention, one line
  std::string how_to_get;   // where the files come from
};

// Unknown name -> ConfigError listing the known names (with a did-you-mean).
const TextDatasetInfo& text_dataset_info(const std::string& name);
std::vector<std::string> text_dataset_names();

// The folder holding `name`'s files: <data_dir>/<subdir> if it holds them, else <data_dir>.
// Neither -> DataError naming both places, the file expected and how to get it.
std::filesystem::path text_dataset_dir(const std::string& name, const std::filesystem::path& data_dir,
                                       const std::string& split);

// Loads one split by dataset name (c4: validation only; its train split is load_c4_documents).
TextSplit load_text_split(const std::string& name, const std::filesystem::path& data_dir,
                          const std::string& split);

}  // namespace repro
