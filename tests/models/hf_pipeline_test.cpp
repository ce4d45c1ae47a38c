// The parts of Hugging Face's tokenizer.json pipeline besides byte-level BPE: literal splits,
// normalizers, decoders, added-token matching, and a hand-made SentencePiece-style tokenizer.json
// (Llama-2 / Mistral / Gemma layout). Expected values are derived by hand from HF's semantics
// (tokenizers/src/tokenizer/normalizer.rs, added_vocabulary.rs, decoders/); the golden test checks
// the real files against HF itself.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "models/bpe_tokenizer.h"
#include "models/detail/added_tokens.h"
#include "models/detail/normalizer.h"
#include "models/detail/pre_tokenizer.h"
#include "models/detail/token_decoder.h"
#include "tests/models/models_test_util.h"
#include "tests/test_util.h"

using nlohmann::json;
using Ids = std::vector<int64_t>;
using Strings = std::vector<std::string>;

namespace {

const std::string kMeta = "\xE2\x96\x81";  // U+2581 "▁"

Strings pieces(std::string_view text, const std::vector<std::pair<size_t, size_t>>& spans) {
  Strings out;
  for (auto [b, e] : spans) out.emplace_back(text.substr(b, e - b));
  return out;
}

Strings split(std::string_view text, std::string_view delim, repro::bpe::SplitBehavior b) {
  return pieces(text, repro::bpe::split_literal(text, delim, b));
}

// (text, token content or "") per segment.
std::vector<std::pair<std::string, std::string>> segments(const repro::bpe::AddedTokenMatcher& m,
                                                          std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& s : m.split(text))
    out.emplace_back(std::string(text.substr(s.begin, s.end - s.begin)), s.token ? s.token->content : "");
  return out;
}

}  // namespace

TEST_CASE("literal splits follow HF's delimiter behaviors", "[models][bpe]") {
  using B = repro::bpe::SplitBehavior;
  const std::string t = "How are  you?";
  CHECK(split(t, " ", B::kRemoved) == Strings{"How", "are", "you?"});
  CHECK(split(t, " ", B::kIsolated) == Strings{"How", " ", "are", " ", " ", "you?"});
  CHECK(split(t, " ", B::kMergedWithPrevious) == Strings{"How ", "are ", " ", "you?"});
  CHECK(split(t, " ", B::kMergedWithNext) == Strings{"How", " are", " ", " you?"});
  CHECK(split(t, " ", B::kContiguous) == Strings{"How", " ", "are", "  ", "you?"});
  CHECK(split(" a ", " ", B::kMergedWithNext) == Strings{" a", " "});
  CHECK(split("aaa", "aa", B::kIsolated) == Strings{"aa", "a"});  // non-overlapping, leftmost first
  CHECK(split("", " ", B::kIsolated).empty());
}

TEST_CASE("Prepend and Replace normalizers", "[models][bpe]") {
  using repro::bpe::NormalizerStep;
  const std::vector<NormalizerStep> llama2 = {{NormalizerStep::kPrepend, kMeta, ""},
                                              {NormalizerStep::kReplace, " ", kMeta}};
  CHECK(repro::bpe::normalize(llama2, "Hello  world") == kMeta + "Hello" + kMeta + kMeta + "world");
  CHECK(repro::bpe::normalize(llama2, " ") == kMeta + kMeta);
  CHECK(repro::bpe::normalize(llama2, "").empty());  // Prepend adds nothing to an empty text
  CHECK(repro::bpe::normalize({{NormalizerStep::kReplace, "aa", "b"}}, "aaaaa") == "bba");
  CHECK(repro::bpe::normalize({{NormalizerStep::kNfc, "", ""}}, "e\xCC\x81") == "\xC3\xA9");
}

TEST_CASE("decoders: Replace, ByteFallback, Fuse, Strip, Metaspace", "[models][bpe]") {
  using repro::bpe::decode_tokens;
  using repro::bpe::DecoderStep;
  auto step = [](DecoderStep::Kind kind, std::string pattern = "", std::string content = "", size_t start = 0,
                 size_t stop = 0) {
    DecoderStep s;
    s.kind = kind, s.pattern = std::move(pattern), s.content = std::move(content), s.start = start, s.stop = stop;
    return s;
  };
  const std::vector<DecoderStep> llama2 = {step(DecoderStep::kReplace, kMeta, " "), step(DecoderStep::kByteFallback),
                                           step(DecoderStep::kFuse), step(DecoderStep::kStrip, " ", "", 1, 0)};
  // Llama-2's chain: "▁" -> ' ', byte tokens -> UTF-8 (日 = E6 97 A5), joined, one leading space off.
  CHECK(decode_tokens(llama2, {kMeta + "Hello", "<0xE6>", "<0x97>", "<0xA5>", kMeta + "!"}) == "Hello\xE6\x97\xA5 !");
  // Ill-formed bytes: one U+FFFD per byte token, not per maximal subsequence.
  CHECK(decode_tokens(llama2, {"<0xE6>", "<0x97>", "a"}) ==
        "\xEF\xBF\xBD\xEF\xBF\xBD"
        "a");
  CHECK(decode_tokens(llama2, {"<0x41>", "<0x4g>"}) == "A<0x4g>");
  // Strip counts characters, at most `start` of them, from each token.
  CHECK(decode_tokens({step(DecoderStep::kStrip, "x", "", 2, 1)}, {"xxxaxx", "xa", "x"}) ==
        "xax"
        "a");
  // Metaspace drops every "▁" of the first token (prepend_scheme always/first), others become ' '.
  DecoderStep meta = step(DecoderStep::kMetaspace, kMeta);
  CHECK(decode_tokens({meta}, {kMeta + "Hey" + kMeta, kMeta + kMeta + "you"}) == "Hey  you");
  meta.prepend_never = true;
  CHECK(decode_tokens({meta}, {kMeta + "Hey"}) == " Hey");
  CHECK(decode_tokens({}, {"a", "b"}) == "a b");  // no decoder: HF joins with spaces
}

TEST_CASE("added tokens: leftmost-longest, single_word, lstrip, rstrip", "[models][bpe]") {
  using repro::bpe::AddedToken;
  std::vector<AddedToken> tokens(6);
  tokens[0].content = "<mask>", tokens[0].lstrip = true;
  tokens[1].content = "[SEP]", tokens[1].rstrip = true;
  tokens[2].content = "word", tokens[2].single_word = true;
  tokens[3].content = "<a>";
  tokens[4].content = "<a><b>";
  tokens[5].content = "<m>", tokens[5].lstrip = true;
  repro::bpe::AddedTokenMatcher m;
  for (const AddedToken& t : tokens) m.add(t.content, &t);
  using Seg = std::vector<std::pair<std::string, std::string>>;
  CHECK(segments(m, "a  <mask> b") == Seg{{"a", ""}, {"  <mask>", "<mask>"}, {" b", ""}});
  // \s is Unicode White_Space: U+3000 is stripped too.
  CHECK(segments(m, "x[SEP] \xE3\x80\x80y") == Seg{{"x", ""}, {"[SEP] \xE3\x80\x80", "[SEP]"}, {"y", ""}});
  // "word" inside "sword" is dropped and its text not searched again; the free-standing one is kept.
  CHECK(segments(m, "sword word") == Seg{{"sword ", ""}, {"word", "word"}});
  CHECK(segments(m, "word_ \xC3\xA9word") == Seg{{"word_ \xC3\xA9word", ""}});  // '_' and 'é' are \w
  CHECK(segments(m, "<a><b><a>") == Seg{{"<a><b>", "<a><b>"}, {"<a>", "<a>"}});
  // lstrip never reaches into the previous match (here: the spaces [SEP] took with rstrip).
  CHECK(segments(m, "[SEP]  <m>") == Seg{{"[SEP]  ", "[SEP]"}, {"<m>", "<m>"}});
  CHECK(segments(m, "").empty());
  CHECK(segments(m, "plain") == Seg{{"plain", ""}});
}

namespace {

// A Llama-2-layout tokenizer.json: <unk> 0, <s> 1, </s> 2, <0x00>..<0xFF> 3..258, then "▁", "a",
// "b", "▁a", "ab", "▁ab" (259..264) with the merges "▁ a", "a b", "▁a b" in that order.
json sp_json() {
  json vocab = {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}};
  for (int b = 0; b < 256; ++b) vocab[fmt::format("<0x{:02X}>", b)] = 3 + b;
  int id = 259;
  for (const std::string& t : {kMeta, std::string("a"), std::string("b"), kMeta + "a", std::string("ab"), kMeta + "ab"})
    vocab[t] = id++;
  json added = json::array();
  for (int i = 0; i < 3; ++i)
    added.push_back({{"id", i},
                     {"content", i == 0   ? "<unk>"
                                 : i == 1 ? "<s>"
                                          : "</s>"},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", true}});
  json j;
  j["added_tokens"] = added;
  j["normalizer"] = {{"type", "Sequence"},
                     {"normalizers",
                      {{{"type", "Prepend"}, {"prepend", kMeta}},
                       {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kMeta}}}}};
  j["pre_tokenizer"] = nullptr;
  j["post_processor"] = {
      {"type", "TemplateProcessing"},
      {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
      {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}};
  j["decoder"] = {{"type", "Sequence"},
                  {"decoders",
                   {{{"type", "Replace"}, {"pattern", {{"String", kMeta}}}, {"content", " "}},
                    {{"type", "ByteFallback"}},
                    {{"type", "Fuse"}},
                    {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}};
  j["model"] = {{"type", "BPE"},
                {"dropout", nullptr},
                {"unk_token", "<unk>"},
                {"fuse_unk", true},
                {"byte_fallback", true},
                {"vocab", vocab},
                {"merges", {kMeta + " a", "a b", kMeta + "a b"}}};
  return j;
}

std::unique_ptr<repro::BpeTokenizer> make_sp(const json& j) {
  return repro::BpeTokenizer::from_json(j.dump(), "tokenizer.json");
}

}  // namespace

TEST_CASE("SentencePiece-style tokenizer.json: Prepend/Replace, byte fallback, unk, template", "[models][bpe]") {
  auto tok = make_sp(sp_json());
  // "▁ab▁ab": "▁ a" (rank 0) at both places, left first, then "▁a b" (rank 2) twice.
  CHECK(tok->encode("ab ab") == Ids{264, 264});
  CHECK(tok->encode("ab ab", true) == Ids{1, 264, 264});
  CHECK(tok->pre_tokenize("ab ab") == Strings{kMeta + "ab" + kMeta + "ab"});
  // é (C3 A9) is not in the vocab: its bytes.
  CHECK(tok->encode("\xC3\xA9") == Ids{259, 3 + 0xC3, 3 + 0xA9});
  // Each piece between added tokens is normalized on its own, so each gets its "▁" (Llama-2).
  CHECK(tok->encode("<s>ab</s> b") == Ids{1, 264, 2, 259, 259, 261});
  CHECK(tok->encode("") == Ids{});
  CHECK(tok->decode({1, 264, 259, 3 + 0xC3, 3 + 0xA9}) == "<s> ab \xC3\xA9");
  CHECK(tok->decode({264, 264}) == "ab ab");
  CHECK(tok->vocab_size() == 265);

  // Without byte fallback, unknown characters become <unk>, one per run (fuse_unk).
  json j = sp_json();
  j["model"]["byte_fallback"] = false;
  CHECK(make_sp(j)->encode("a\xC3\xA9\xC3\xA9"
                           "b") == Ids{262, 0, 261});
}

TEST_CASE("a whole text is cut before word starts only where no token joins across", "[models][bpe]") {
  // With "b▁" in the vocab and its merge ranked first, BPE joins "b" to the next word's "▁":
  // "▁ab▁ab" -> "b ▁" at 2, "▁ a" at 0, then "a b" at 4 -> ▁a, b▁, ab. Cutting before the second
  // "▁" (what encode does when no token spans "b▁") would give ▁ab, ▁ab instead.
  json j = sp_json();
  j["model"]["vocab"]["b" + kMeta] = 265;
  j["model"]["merges"].insert(j["model"]["merges"].begin(), "b " + kMeta);
  CHECK(make_sp(j)->encode("ab ab") == Ids{262, 265, 263});
  CHECK(make_sp(sp_json())->encode("ab ab ab") == Ids{264, 264, 264});
}

TEST_CASE("Metaspace pre-tokenizer: prepend_scheme first / always, split", "[models][bpe]") {
  json j = sp_json();
  j["normalizer"] = nullptr;
  j["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", kMeta}, {"prepend_scheme", "first"}, {"split", false}};
  auto first = make_sp(j);
  CHECK(first->encode("ab ab") == Ids{264, 264});
  // Only the text at offset 0 gets the "▁": after an added token there is none (Mistral).
  CHECK(first->encode("<s>ab ab") == Ids{1, 263, 264});
  j["pre_tokenizer"]["prepend_scheme"] = "always";
  j["pre_tokenizer"]["split"] = true;
  auto always = make_sp(j);
  CHECK(always->encode("<s>ab ab") == Ids{1, 264, 264});
  CHECK(always->pre_tokenize("a  b") == Strings{kMeta + "a", kMeta, kMeta + "b"});
  // Old files: add_prefix_space instead of prepend_scheme.
  j["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", kMeta}, {"add_prefix_space", false}};
  CHECK(make_sp(j)->encode("ab") == Ids{263});
}

TEST_CASE("regression: a SentencePiece-style tokenizer.json loads without tokenizer.model", "[models][bpe]") {
  // Issue 11: Llama-2 / Mistral / Gemma tokenizer.json failed with "normalizer 'Prepend' is not
  // supported" unless a tokenizer.model was beside it.
  repro::test::TempDir dir;
  repro::test::write_text(dir / "tokenizer.json", sp_json().dump());
  auto tok = repro::Tokenizer::load(dir.path());
  CHECK(tok->kind() == "bpe");
  CHECK(tok->encode("ab ab") == Ids{264, 264});
  // Gemma-3's layout: Replace only, and a Split on " " that finds nothing after it.
  json j = sp_json();
  j["normalizer"] = {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kMeta}};
  j["pre_tokenizer"] = {
      {"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "MergedWithPrevious"}, {"invert", false}};
  CHECK(make_sp(j)->encode("ab ab") == Ids{263, 264});
}
