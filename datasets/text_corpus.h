#pragma once
// Text corpora for perplexity and calibration, joined the way the papers' code joins them
// (GPTQ / SparseGPT `datautils.py` on the Hugging Face datasets), so that the same tokenizer gives
// the same token stream:
//
//   wikitext2  wiki.{train,valid,test}.raw. HF `wikitext-2-raw-v1` has one row per line of these
//              files: the line with its "\n", or "" for a blank line. The text is the rows joined
//              with "\n\n" ("\n\n".join(data["text"])).
//   ptb        ptb.{train,valid,test}.txt. HF `ptb_text_only` has one row per line, stripped. The
//              text is the rows joined with " " (" ".join(data["sentence"])). GPTQ's get_ptb
//              evaluates the validation split, get_ptb_new (and most later papers) the test split.
//   c4         c4-{train.00000-of-01024, validation.00000-of-00008}.json[.gz], JSON lines with a
//              "text" field. Validation text: the first 1100 documents joined with " " (the
//              evaluation then keeps 256 * seqlen tokens); train: a list of documents, sampled one
//              document at a time (see calibration.h).
//   embedded   data/embedded/{train,valid,test}.txt from scripts/build-corpus.sh: one paragraph per
//              line; the text is the file as is (lines joined with "\n", final "\n" included).
//
// Split names: "train", "validation" (also "valid", "val"), "test".

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace repro {

struct TextSplit {
  std::string name;  // "<dataset>:<split>", e.g. "wikitext2:test"
  std::string text;
  std::string sha256;  // of `text` (the joined text, not the file)
  std::filesystem::path source;
};

// A corpus sampled per document (C4 train).
struct TextDocuments {
  std::string name;  // "c4:train"
  std::vector<std::string> documents;
  std::string sha256;  // of the source file's bytes
  std::filesystem::path source;
};

// "train" | "validation" | "test" for the accepted spellings; ConfigError otherwise.
std::string canonical_split(const std::string& split);

// Each loader reads from `dir` (the folder holding the files); a missing file -> DataError naming
// the path, the file expected and how to get it.
TextSplit load_wikitext2(const std::filesystem::path& dir, const std::string& split);
TextSplit load_ptb(const std::filesystem::path& dir, const std::string& split);
TextSplit load_embedded(const std::filesystem::path& dir, const std::string& split);
// C4 validation only (the first `max_documents` documents joined with " ").
TextSplit load_c4_validation(const std::filesystem::path& dir, size_t max_documents = 1100);
// The documents of one C4 shard, in file order; `max_documents` = 0 reads them all.
// Malformed line, or a record without a string "text" -> DataError "<file>:<line>: ...".
TextDocuments load_c4_documents(const std::filesystem::path& dir, const std::string& split,
                                size_t max_documents = 0);

// The shard file for a C4 split inside `dir` (.json.gz, .json, .jsonl.gz or .jsonl), or
// DataError when none exists.
std::filesystem::path c4_shard_path(const std::filesystem::path& dir, const std::string& split);

// Joining conventions, exposed for tests and for users who hold the rows already.
// rows = the HF rows of a WikiText raw file's bytes; text = rows joined with "\n\n".
std::string join_wikitext_raw(const std::string& file_bytes);
// text = stripped lines joined with " ".
std::string join_ptb(const std::string& file_bytes);

}  // namespace repro
