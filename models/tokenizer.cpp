// Tokenizer::load: picks the tokenizer of a model folder.
#include "models/tokenizer.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "models/bpe_tokenizer.h"
#include "models/sentencepiece_tokenizer.h"

namespace repro {
namespace fs = std::filesystem;

namespace {

// tokenizer_config.json's add_bos_token, when the file exists and sets it.
std::optional<bool> add_bos_token(const fs::path& dir) {
  const fs::path path = dir / "tokenizer_config.json";
  if (!fs::exists(path)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::parse_error& e) {
    throw DataError(fmt::format("{}: not valid JSON (parse error at byte {})", path.string(), e.byte));
  }
  if (j.is_object() && j.contains("add_bos_token") && j["add_bos_token"].is_boolean())
    return j["add_bos_token"].get<bool>();
  return std::nullopt;
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::load(const fs::path& model_dir) {
  const fs::path json_path = model_dir / "tokenizer.json";
  const fs::path model_path = model_dir / "tokenizer.model";
  const bool has_json = fs::exists(json_path), has_model = fs::exists(model_path);
  // tokenizer.json first, as transformers' AutoTokenizer does (its fast tokenizer); tokenizer.model
  // serves when there is no tokenizer.json or it has parts BpeTokenizer does not run.
  if (has_json) {
    try {
      return BpeTokenizer::load(json_path);
    } catch (const DataError&) {
      if (!has_model) throw;
    }
  }
  if (has_model) return SentencePieceTokenizer::load(model_path, add_bos_token(model_dir));
  throw DataError(fmt::format("{}: no tokenizer.json or tokenizer.model", model_dir.string()));
}

}  // namespace repro
