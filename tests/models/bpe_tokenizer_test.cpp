#include "models/bpe_tokenizer.h"

#include <nlohmann/json.hpp>

#include "models/detail/byte_level.h"
#include "models/detail/pre_tokenizer.h"
#include "models/unicode.h"
#include "tests/models/models_test_util.h"
#include "tests/test_util.h"

using repro::BpeTokenizer;
using repro::DataError;
using nlohmann::json;
using Ids = std::vector<int64_t>;

namespace {

// GPT-2's bytes_to_unicode, written out independently of the library: printable Latin-1 bytes map
// to themselves, the others to U+0100 + k in byte order.
std::string byte_char(int b) {
  const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
  int cp = b;
  if (!printable) {
    cp = 256;
    for (int x = 0; x < b; ++x) {
      const bool px = (x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF);
      cp += !px;
    }
  }
  std::string out;
  repro::unicode::append_utf8(out, static_cast<char32_t>(cp));
  return out;
}

const std::vector<std::string> kMerges = {
    "Ġ t",      // 256 Ġt
    "h e",      // 257 he
    "Ġt he",    // 258 Ġthe
    "Ġ c",      // 259 Ġc
    "a t",      // 260 at
    "Ġc at",    // 261 Ġcat
    "' s",      // 262 's
    "1 2",      // 263 12
    "12 3",     // 264 123
    "Ã ©",      // 265 Ã© (é = C3 A9)
    "c a",      // 266 ca
    "ca f",     // 267 caf
    "caf Ã©",   // 268 café
    "Ġ Ġ",      // 269 two spaces
    "Ċ Ċ",      // 270 two newlines
    "T he",     // 271 The
};

// A Llama-3-style tokenizer.json: vocab id b for byte b, merged tokens 256.., special tokens
// <|begin_of_text|> = 300 (added by the template) and <|eot_id|> = 301.
json tokenizer_json(bool merges_as_pairs = false, const std::string& regex = std::string(repro::bpe::pattern_text(repro::bpe::SplitPattern::kLlama3))) {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[byte_char(b)] = b;
  json merges = json::array();
  for (size_t i = 0; i < kMerges.size(); ++i) {
    const std::string& m = kMerges[i];
    const size_t sp = m.find(' ');
    vocab[m.substr(0, sp) + m.substr(sp + 1)] = 256 + static_cast<int>(i);
    if (merges_as_pairs) merges.push_back({m.substr(0, sp), m.substr(sp + 1)});
    else merges.push_back(m);
  }
  json j;
  j["version"] = "1.0";
  j["added_tokens"] = {
      {{"id", 300}, {"content", "<|begin_of_text|>"}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
       {"normalized", false}, {"special", true}},
      {{"id", 301}, {"content", "<|eot_id|>"}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
       {"normalized", false}, {"special", true}},
  };
  j["normalizer"] = nullptr;
  j["pre_tokenizer"] = {
      {"type", "Sequence"},
      {"pretokenizers",
       {{{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", "Isolated"}, {"invert", false}},
        {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}}}}};
  j["post_processor"] = {
      {"type", "Sequence"},
      {"processors",
       {{{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", false}, {"use_regex", true}},
        {{"type", "TemplateProcessing"},
         {"single", {{{"SpecialToken", {{"id", "<|begin_of_text|>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
         {"pair", json::array()},
         {"special_tokens", {{"<|begin_of_text|>", {{"id", "<|begin_of_text|>"}, {"ids", {300}}, {"tokens", {"<|begin_of_text|>"}}}}}}}}}};
  j["decoder"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
  j["model"] = {{"type", "BPE"},          {"dropout", nullptr},      {"unk_token", nullptr},
                {"continuing_subword_prefix", nullptr}, {"end_of_word_suffix", nullptr}, {"fuse_unk", false},
                {"byte_fallback", false}, {"ignore_merges", false}, {"vocab", vocab},
                {"merges", merges}};
  return j;
}

std::unique_ptr<BpeTokenizer> make(const json& j, const std::string& config = "") {
  return BpeTokenizer::from_json(j.dump(), "tokenizer.json", config);
}

std::string bpe_error(const std::string& text) {
  return repro::test::error_of<DataError>([&] { BpeTokenizer::from_json(text, "/m/tokenizer.json"); });
}

}  // namespace

TEST_CASE("byte-level mapping is GPT-2's bytes_to_unicode", "[models][bpe]") {
  CHECK(byte_char(' ') == "Ġ");
  CHECK(byte_char('\n') == "Ċ");
  CHECK(byte_char(0xC3) == "Ã");
  for (int b = 0; b < 256; ++b) {
    INFO("byte " << b);
    CHECK(repro::byte_level::encode(std::string(1, static_cast<char>(b))) == byte_char(b));
  }
}

TEST_CASE("BPE ids of a hand-made Llama-3-style tokenizer, derived by hand", "[models][bpe]") {
  auto tok = make(tokenizer_json());
  CHECK(tok->vocab_size() == 302);
  CHECK(tok->bos_id() == 300);

  // Pieces (Llama-3 regex): "The" " cat" "'s" " " "123" "4" " café" "," " 日本" "!" " " " ok" "\n\n"
  // <|eot_id|> "x". Merges by rank: The = T+he (h e first, rank 1, then T he, rank 15); " cat":
  // Ġ c (rank 3) before c a (rank 10), then a t, then Ġc at; " café": Ġ c (3), Ã © (9), and c a
  // never applies because Ġc took the c; 日 = E6 97 A5, 本 = E6 9C AC stay bytes; "  ok" leaves
  // one space alone and gives the other to "ok" (\s+(?!\S)).
  const std::string text = "The cat's 1234 café, 日本!  ok\n\n<|eot_id|>x";
  const Ids expected = {271, 261, 262, 32, 264, 52, 259, 97, 102, 265, 44, 32, 230, 151, 165, 230,
                        156, 172, 33,  32,  32, 111, 107, 270, 301, 120};
  CHECK(tok->encode(text) == expected);
  Ids with_bos = expected;
  with_bos.insert(with_bos.begin(), 300);
  CHECK(tok->encode(text, true) == with_bos);

  CHECK(tok->encode("café") == Ids{268});            // c a (10) < ca f (11) < caf Ã© (12) after Ã © (9)
  CHECK(tok->encode("the the") == Ids{116, 257, 258});  // "the": t + he; " the": Ġt, he, Ġthe
  CHECK(tok->encode("IT'S") == Ids{73, 84, 39, 83});   // (?i:'s) splits "'S" off; no merge for it
  CHECK(tok->encode("a   b") == Ids{97, 269, 32, 98}); // "a" "  " " b"
  CHECK(tok->encode("a\t\nb") == Ids{97, 9, 10, 98});  // \s*[\r\n]+ takes "\t\n"
  CHECK(tok->encode("x<|eot_id|>y") == Ids{120, 301, 121});
  CHECK(tok->encode("<|eot") == Ids{60, 124, 101, 111, 116});  // an incomplete special token is text
  CHECK(tok->encode("") == Ids{});
  CHECK(tok->token_to_id("Ġthe") == 258);
  CHECK(tok->token_to_id("<|eot_id|>") == 301);
}

TEST_CASE("both merge formats give the same tokenizer", "[models][bpe]") {
  auto a = make(tokenizer_json(false)), b = make(tokenizer_json(true));
  for (const char* s : {"The cat's 1234 café", "  the\n\n 12 123"}) CHECK(a->encode(s) == b->encode(s));
}

TEST_CASE("decode inverts encode", "[models][bpe]") {
  auto tok = make(tokenizer_json());
  for (const std::string s :
       {"The cat's 1234 café, 日本!  ok\n\n<|eot_id|>x", "  leading and trailing  ", "tabs\tand\r\nCRLF\n\n\n",
        "emoji 😀 and accents àéîõü", "I'M 'll 've 're", "12345678901234567890", "mixed<|begin_of_text|>specials<|eot_id|>",
        "", " ", "\n"}) {
    INFO(s);
    CHECK(tok->decode(tok->encode(s)) == s);
  }
  CHECK(tok->decode({300, 84, 999999}) == "<|begin_of_text|>T");  // unknown ids decode to nothing
  CHECK(tok->decode({230, 151}) == "\xEF\xBF\xBD");                  // a cut character becomes U+FFFD
}

TEST_CASE("Qwen2's pattern splits digits one by one", "[models][bpe]") {
  auto tok = make(tokenizer_json(false, std::string(repro::bpe::pattern_text(repro::bpe::SplitPattern::kQwen2))));
  CHECK(tok->encode("1234") == Ids{49, 50, 51, 52});
  auto llama = make(tokenizer_json());
  CHECK(llama->encode("1234") == Ids{264, 52});
}

TEST_CASE("GPT-2 style ByteLevel pre-tokenizer with prefix space", "[models][bpe]") {
  json j = tokenizer_json();
  j["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
  j["post_processor"] = nullptr;
  auto tok = make(j);
  CHECK(tok->pre_tokenize("the cat's") == std::vector<std::string>{"Ġthe", "Ġcat", "'s"});
  CHECK(tok->encode("the cat") == Ids{258, 261});
  CHECK(tok->encode("x", true) == Ids{32, 120});  // no template: add_bos adds nothing
  CHECK(!tok->bos_id());
}

TEST_CASE("NFC normalizer composes before tokenizing", "[models][bpe]") {
  json j = tokenizer_json();
  j["normalizer"] = {{"type", "NFC"}};
  auto tok = make(j);
  CHECK(tok->encode("cafe\xCC\x81") == Ids{268});  // e + COMBINING ACUTE -> é
  CHECK(make(tokenizer_json())->encode("cafe\xCC\x81") != Ids{268});
  CHECK(repro::unicode::nfc("\xE1\x84\x80\xE1\x85\xA1") == "\xEA\xB0\x80");  // Hangul L+V -> 가
}

TEST_CASE("ignore_merges takes whole words from the vocab", "[models][bpe]") {
  json j = tokenizer_json();
  j["model"]["vocab"]["Ġcafé"] = 280;  // reachable only as a whole word
  j["model"]["vocab"]["ĠcafÃ©"] = 281;
  CHECK(make(j)->encode(" café") == Ids{259, 97, 102, 265});
  j["model"]["ignore_merges"] = true;
  CHECK(make(j)->encode(" café") == Ids{281});
}

TEST_CASE("tokenizer_config.json sets eos and can turn BOS off", "[models][bpe]") {
  auto tok = make(tokenizer_json(), R"({"bos_token": "<|begin_of_text|>", "eos_token": {"content": "<|eot_id|>"}})");
  CHECK(tok->eos_id() == 301);
  CHECK(tok->encode("x", true) == Ids{300, 120});
  auto off = make(tokenizer_json(), R"({"add_bos_token": false, "eos_token": "<|eot_id|>"})");
  CHECK(off->encode("x", true) == Ids{120});
  CHECK_CONTAINS(repro::test::error_of<DataError>([] { make(tokenizer_json(), R"({"eos_token": "<nope>"})"); }),
                 "eos_token '<nope>' is not a token");
}

TEST_CASE("Tokenizer::load picks tokenizer.json", "[models][bpe]") {
  repro::test::TempDir dir("tok");
  repro::test::write_text(dir / "tokenizer.json", tokenizer_json().dump());
  repro::test::write_text(dir / "tokenizer_config.json", R"({"eos_token": "<|eot_id|>"})");
  auto tok = repro::Tokenizer::load(dir.path());
  CHECK(tok->kind() == "bpe");
  CHECK(tok->eos_id() == 301);
  CHECK(tok->encode("the the", true) == Ids{300, 116, 257, 258});
}

TEST_CASE("malformed tokenizer.json gives one DataError line", "[models][bpe]") {
  CHECK_CONTAINS(bpe_error("{not json"), "/m/tokenizer.json: not valid JSON");
  CHECK_CONTAINS(bpe_error("[1, 2]"), "not a JSON object");
  json j = tokenizer_json();
  j.erase("model");
  CHECK_CONTAINS(bpe_error(j.dump()), "missing the \"model\" object");
  j = tokenizer_json();
  j["model"]["type"] = "Unigram";
  CHECK_CONTAINS(bpe_error(j.dump()), "model type 'Unigram' is not supported (supported: BPE)");
  j = tokenizer_json();
  j["model"]["merges"].push_back("Ġ zz");
  CHECK_CONTAINS(bpe_error(j.dump()), "merge #16 ('Ġ', 'zz') references token 'zz' that is not in the vocab");
  j = tokenizer_json();
  j["model"]["merges"].push_back("x y");
  CHECK_CONTAINS(bpe_error(j.dump()), "the merged token 'xy' is not in the vocab");
  j = tokenizer_json();
  j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\w+";
  CHECK_CONTAINS(bpe_error(j.dump()), "is not one of the supported patterns");
  j = tokenizer_json();
  j["pre_tokenizer"] = {{"type", "Digits"}};
  CHECK_CONTAINS(bpe_error(j.dump()), "pre_tokenizer 'Digits' is not supported");
  CHECK_CONTAINS(bpe_error(j.dump()), "with a tokenizer.model beside it, Tokenizer::load uses that instead");
  j = tokenizer_json();
  j["pre_tokenizer"] = {{"type", "Metaspace"}};
  CHECK_CONTAINS(bpe_error(j.dump()), "Metaspace: 'replacement' must be one character");
  j = tokenizer_json();
  j["normalizer"] = {{"type", "Precompiled"}};
  CHECK_CONTAINS(bpe_error(j.dump()), "normalizer 'Precompiled' is not supported (supported: NFC, Prepend, Replace");
  j = tokenizer_json();
  j["model"]["vocab"]["a"] = "zero";
  CHECK_CONTAINS(bpe_error(j.dump()), "model.vocab['a'] is not a non-negative integer id");
  j = tokenizer_json();
  j["added_tokens"][0].erase("id");
  CHECK_CONTAINS(bpe_error(j.dump()), "added_tokens entry #0");
}

// Found by fuzz/tokenizer_json (fuzz/README.md): an added token with a negative id loaded, and
// encode() returned that id (-2), below zero and so outside every embedding table.
TEST_CASE("fuzz: an added token with a negative id is a DataError, not a negative token id", "[models][bpe]") {
  // The tokenizer.json part of the fuzzer's input (its text part, "a,-\xD9{...", contained "ab").
  const std::string found =
      R"({"model": {"vocab": {"a": 0, "-": 1, "kkkkkkkkkkkkkkkkkkkkkkkkkkb": 1}, "merges": []}, "normaliz'er": )"
      R"({"ert": false}, "added_tokens": [{"id": -2, "content": "ab", "normalized": true}]})";
  CHECK(bpe_error(found) ==
        "/m/tokenizer.json: added_tokens entry #0: id -2 is not a non-negative integer below 2^31");
  json j = json::parse(found);
  j["added_tokens"][0]["id"] = 1ll << 31;
  CHECK_CONTAINS(bpe_error(j.dump()), "id 2147483648 is not a non-negative integer below 2^31");
  // With a valid id the added token encodes to it, inside vocab_size().
  j["added_tokens"][0]["id"] = 2;
  const auto tok = BpeTokenizer::from_json(j.dump(), "/m/tokenizer.json");
  CHECK(tok->vocab_size() == 3);
  CHECK(tok->encode("ab", false) == Ids{2});
}

// Found by fuzz/tokenizer_json (fuzz/README.md): a vocab id of 1111111111 in a five-token
// vocabulary sized the dense id -> token table to 8.9 GB (the fuzzer's out-of-memory limit).
TEST_CASE("fuzz: a vocab id far beyond the vocabulary's size is a DataError, not an 8.9 GB table", "[models][bpe]") {
  const std::string found =
      R"({"model": {"type": "BPE", "vocab": {"a": 0, "x": 1111111111, "y": 2, "ax": 3, "xy": 4}, "merges": [["x", "y"]]}})";
  CHECK_CONTAINS(bpe_error(found), "model.vocab['x'] has id 1111111111, beyond the vocabulary's 5 entries");
  // Gaps below the bound stay fine (ids need not be contiguous).
  json j = json::parse(found);
  j["model"]["vocab"]["x"] = 1000;
  const auto tok = BpeTokenizer::from_json(j.dump(), "/m/tokenizer.json");
  CHECK(tok->encode("xy", false) == Ids{4});
}
