#include "datasets/text_corpus.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/hash.h"
#include "datasets/detail/py_text.h"
#include "datasets/json_lines.h"

namespace repro {
namespace fs = std::filesystem;

namespace {

constexpr const char* kWikitextHint =
    "WikiText-2 raw: the folder 'wikitext-2-raw' of wikitext-2-raw-v1.zip (Merity et al.; "
    "also on huggingface.co/datasets/Salesforce/wikitext)";
constexpr const char* kPtbHint =
    "Penn Treebank LM data: 'simple-examples/data' of Mikolov's simple-examples.tgz, the files the "
    "HF dataset 'ptb_text_only' reads";
constexpr const char* kC4Hint =
    "C4: the shard from huggingface.co/datasets/allenai/c4, folder en/ (keep the .json.gz or gunzip it)";
constexpr const char* kEmbeddedHint = "the embedded corpus: run scripts/build-corpus.sh";

std::string read_file(const fs::path& path, const std::string& what, const char* hint) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    throw DataError(fmt::format("{}: file not found (expected {}; {})", path.string(), what, hint));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(fmt::format("{}: cannot open file", path.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  return std::move(ss).str();
}

// Python's text-mode line iteration (universal newlines): "\r\n" and "\r" end lines like "\n";
// every line keeps its "\n" except a last line without one.
template <class Fn>
void for_each_python_line(const std::string& bytes, Fn&& fn) {
  std::string line;
  for (size_t i = 0; i < bytes.size(); ++i) {
    char c = bytes[i];
    if (c == '\r') {
      if (i + 1 < bytes.size() && bytes[i + 1] == '\n') ++i;
      c = '\n';
    }
    line += c;
    if (c == '\n') {
      fn(line);
      line.clear();
    }
  }
  if (!line.empty()) fn(line);
}

TextSplit make_split(std::string name, std::string text, fs::path source) {
  TextSplit s;
  s.name = std::move(name);
  s.sha256 = sha256_hex(text);
  s.text = std::move(text);
  s.source = std::move(source);
  return s;
}

}  // namespace

std::string canonical_split(const std::string& split) {
  if (split == "train") return "train";
  if (split == "validation" || split == "valid" || split == "val") return "validation";
  if (split == "test") return "test";
  throw ConfigError(fmt::format("unknown split '{}' (use train, validation or test)", split));
}

std::string join_wikitext_raw(const std::string& file_bytes) {
  std::string out;
  out.reserve(file_bytes.size() + file_bytes.size() / 8);
  bool first = true;
  for_each_python_line(file_bytes, [&](const std::string& line) {
    if (!first) out += "\n\n";
    first = false;
    if (!detail::py_strip(line).empty()) out += line;
  });
  return out;
}

std::string join_ptb(const std::string& file_bytes) {
  std::string out;
  out.reserve(file_bytes.size());
  bool first = true;
  for_each_python_line(file_bytes, [&](const std::string& line) {
    if (!first) out += ' ';
    first = false;
    out += detail::py_strip(line);
  });
  return out;
}

TextSplit load_wikitext2(const fs::path& dir, const std::string& split) {
  std::string s = canonical_split(split);
  std::string file = s == "train" ? "wiki.train.raw" : s == "validation" ? "wiki.valid.raw" : "wiki.test.raw";
  fs::path path = dir / file;
  return make_split("wikitext2:" + s, join_wikitext_raw(read_file(path, file, kWikitextHint)), path);
}

TextSplit load_ptb(const fs::path& dir, const std::string& split) {
  std::string s = canonical_split(split);
  std::string file = s == "train" ? "ptb.train.txt" : s == "validation" ? "ptb.valid.txt" : "ptb.test.txt";
  fs::path path = dir / file;
  return make_split("ptb:" + s, join_ptb(read_file(path, file, kPtbHint)), path);
}

TextSplit load_embedded(const fs::path& dir, const std::string& split) {
  std::string s = canonical_split(split);
  std::string file = s == "train" ? "train.txt" : s == "validation" ? "valid.txt" : "test.txt";
  fs::path path = dir / file;
  return make_split("embedded:" + s, read_file(path, file, kEmbeddedHint), path);
}

fs::path c4_shard_path(const fs::path& dir, const std::string& split) {
  std::string s = canonical_split(split);
  if (s == "test") throw ConfigError("c4 has no test split (use validation)");
  std::string stem = s == "train" ? "c4-train.00000-of-01024" : "c4-validation.00000-of-00008";
  std::error_code ec;
  for (const char* ext : {".json.gz", ".json", ".jsonl.gz", ".jsonl"})
    if (fs::is_regular_file(dir / (stem + ext), ec)) return dir / (stem + ext);
  throw DataError(fmt::format("{}: file not found (expected {}.json.gz or {}.json; {})",
                              (dir / (stem + ".json.gz")).string(), stem, stem, kC4Hint));
}

TextDocuments load_c4_documents(const fs::path& dir, const std::string& split, size_t max_documents) {
  TextDocuments out;
  out.source = c4_shard_path(dir, split);
  out.name = "c4:" + canonical_split(split);
  for_each_json_line(out.source, [&](const nlohmann::json& record, size_t line) {
    auto it = record.is_object() ? record.find("text") : record.end();
    if (!record.is_object() || it == record.end() || !it->is_string())
      throw DataError(fmt::format("{}: expected an object with a string field \"text\"",
                                  file_line(out.source, line)));
    out.documents.push_back(it->get<std::string>());
    return max_documents == 0 || out.documents.size() < max_documents;
  });
  out.sha256 = sha256_file(out.source);
  return out;
}

TextSplit load_c4_validation(const fs::path& dir, size_t max_documents) {
  TextDocuments docs = load_c4_documents(dir, "validation", max_documents);
  std::string text;
  for (size_t i = 0; i < docs.documents.size(); ++i) {
    if (i) text += ' ';
    text += docs.documents[i];
  }
  return make_split("c4:validation", std::move(text), docs.source);
}

}  // namespace repro
