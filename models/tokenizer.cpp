// Tokenizer::load: picks the tokenizer of a model folder.
#include "models/tokenizer.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_text.h"
#include "models/bpe_tokenizer.h"
#include "models/sentencepiece_tokenizer.h"

namespace repro {
namespace fs = std::filesystem;

namespace {

// What tokenizer_config.json tells a SentencePiece model: add_bos_token, and added_tokens_decoder
// ({"<id>": {"content", "lstrip", "rstrip", "normalized", "single_word", "special"}}).
struct SentencePieceConfig {
  std::optional<bool> add_bos_token;
  std::optional<std::vector<bpe::AddedToken>> added_tokens;
};

SentencePieceConfig sentencepiece_config(const fs::path& dir) {
  SentencePieceConfig out;
  const fs::path path = dir / "tokenizer_config.json";
  if (!fs::exists(path)) return out;
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string why;
  std::optional<nlohmann::json> parsed = parse_json_text(ss.str(), &why);
  if (!parsed) throw DataError(fmt::format("{}: not valid JSON ({})", path.string(), why));
  nlohmann::json j = std::move(*parsed);
  if (!j.is_object()) return out;
  if (j.contains("add_bos_token") && j["add_bos_token"].is_boolean())
    out.add_bos_token = j["add_bos_token"].get<bool>();
  if (j.contains("added_tokens_decoder") && j["added_tokens_decoder"].is_object()) {
    std::vector<bpe::AddedToken> tokens;
    for (const auto& [key, t] : j["added_tokens_decoder"].items()) {
      bpe::AddedToken a;
      try {
        a.id = std::stoll(key);
      } catch (const std::exception&) {
        throw DataError(fmt::format("{}: added_tokens_decoder key '{}' is not a token id", path.string(), key));
      }
      if (!t.is_object() || !t.contains("content") || !t["content"].is_string())
        throw DataError(fmt::format("{}: added_tokens_decoder['{}'] has no 'content' string", path.string(), key));
      a.content = t["content"].get<std::string>();
      auto flag = [&](const char* name, bool dflt) {
        return t.contains(name) && t[name].is_boolean() ? t[name].get<bool>() : dflt;
      };
      a.special = flag("special", false);
      a.normalized = flag("normalized", !a.special);
      a.lstrip = flag("lstrip", false), a.rstrip = flag("rstrip", false), a.single_word = flag("single_word", false);
      tokens.push_back(std::move(a));
    }
    out.added_tokens = std::move(tokens);
  }
  return out;
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
  if (has_model) {
    SentencePieceConfig config = sentencepiece_config(model_dir);
    return SentencePieceTokenizer::load(model_path, config.add_bos_token, std::move(config.added_tokens));
  }
  throw DataError(fmt::format("{}: no tokenizer.json or tokenizer.model", model_dir.string()));
}

}  // namespace repro
