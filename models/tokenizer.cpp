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

// True when tokenizer.json describes a byte-level pipeline (a ByteLevel pre-tokenizer); HF ships a
// SentencePiece-style tokenizer.json (Metaspace, byte fallback) next to tokenizer.model for
// Llama-2 and Mistral, and that one is served from tokenizer.model instead.
bool is_byte_level(const fs::path& tokenizer_json) {
  std::ifstream in(tokenizer_json, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  if (text.find("\"ByteLevel\"") != std::string::npos) return true;
  // Malformed JSON goes to the BPE parser too, which reports it.
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() || !j.is_object();
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::load(const fs::path& model_dir) {
  const fs::path json_path = model_dir / "tokenizer.json";
  const fs::path model_path = model_dir / "tokenizer.model";
  const bool has_json = fs::exists(json_path), has_model = fs::exists(model_path);
  if (has_json && (!has_model || is_byte_level(json_path))) return BpeTokenizer::load(json_path);
  if (has_model) return SentencePieceTokenizer::load(model_path, add_bos_token(model_dir));
  throw DataError(fmt::format("{}: no tokenizer.json or tokenizer.model", model_dir.string()));
}

}  // namespace repro
