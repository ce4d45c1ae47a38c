#include "models/sentencepiece_tokenizer.h"

#include <ATen/ATen.h>

#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "models/bpe_tokenizer.h"

#include "tests/models/models_test_util.h"
#include "tests/test_util.h"

using repro::SentencePieceTokenizer;
using repro::test::TempDir;

namespace {

// A few KB of English-like text from a fixed word list.
std::vector<std::string> corpus() {
  const std::vector<std::string> words = {"the",       "model", "weights",     "are",   "pruned", "and",
                                          "quantized", "to",    "two",         "bits",  "while",  "perplexity",
                                          "stays",     "low",   "on",          "every", "layer",  "of",
                                          "network",   "with",  "calibration", "data",  "from",   "text"};
  std::mt19937 rng(5);
  std::vector<std::string> lines;
  for (int i = 0; i < 120; ++i) {
    std::string line;
    const int n = 5 + static_cast<int>(rng() % 8);
    for (int w = 0; w < n; ++w) line += (w ? " " : "") + words[rng() % words.size()];
    line += i % 3 == 0 ? ", 2024." : ".";
    lines.push_back(line);
  }
  return lines;
}

std::filesystem::path train(const TempDir& dir) {
  repro::SentencePieceTrainOptions o;
  o.vocab_size = 400;  // byte fallback needs 256 byte pieces + 3 specials + the characters
  o.seed = 1;
  const auto path = dir / "model" / "tokenizer.model";
  repro::train_sentencepiece(corpus(), path, o);
  return path;
}

}  // namespace

TEST_CASE("a tiny SentencePiece model trains, encodes and decodes", "[models][sentencepiece]") {
  TempDir dir("spm");
  const auto path = train(dir);
  auto tok = SentencePieceTokenizer::load(path);
  CHECK(tok->kind() == "sentencepiece");
  CHECK(tok->vocab_size() == 400);
  CHECK(tok->bos_id() == 1);
  CHECK(tok->eos_id() == 2);
  CHECK(tok->id_to_piece(0) == "<unk>");

  for (const std::string s : {"the model weights are pruned.", "perplexity stays low, 2024.",
                              "unseen words: zebra quixotic", "non-ASCII: café 日本 😀", "  two  spaces"}) {
    INFO(s);
    const auto ids = tok->encode(s);
    CHECK(!ids.empty());
    CHECK(tok->decode(ids) == s);           // identity normalization keeps every byte and space
    for (int64_t id : ids) CHECK(id != 0);  // byte fallback: never <unk>
  }
  // Merges were learned: a training line takes under half as many pieces as it has characters.
  const std::string line = corpus()[0];
  CHECK(tok->encode(line).size() * 2 < line.size());
  // BOS only when asked.
  CHECK(tok->encode("model", true).front() == 1);
  CHECK(tok->encode("model", false).front() != 1);
  CHECK_THROWS_AS(tok->decode({400}), repro::DataError);

  // Training is deterministic.
  TempDir dir2("spm");
  CHECK(repro::test::read_text(train(dir2)) == repro::test::read_text(path));
}

TEST_CASE("Tokenizer::load uses tokenizer.model and honours add_bos_token", "[models][sentencepiece]") {
  TempDir dir("spm");
  const auto path = train(dir);
  const auto model_dir = path.parent_path();
  auto tok = repro::Tokenizer::load(model_dir);
  CHECK(tok->kind() == "sentencepiece");
  CHECK(tok->encode("the", true).front() == 1);
  repro::test::write_text(model_dir / "tokenizer_config.json", R"({"add_bos_token": false})");
  CHECK(repro::Tokenizer::load(model_dir)->encode("the", true) == repro::Tokenizer::load(model_dir)->encode("the"));
  // A tokenizer.json that BpeTokenizer cannot run, next to tokenizer.model, defers to the latter.
  repro::test::write_text(model_dir / "tokenizer.json", R"({"model": {"type": "Unigram"}})");
  CHECK(repro::Tokenizer::load(model_dir)->kind() == "sentencepiece");
}

TEST_CASE("bad SentencePiece inputs are DataErrors", "[models][sentencepiece]") {
  TempDir dir("spm");
  repro::test::write_text(dir / "tokenizer.model", "definitely not a protobuf");
  CHECK_CONTAINS(
      repro::test::error_of<repro::DataError>([&] { SentencePieceTokenizer::load(dir / "tokenizer.model"); }),
      "not a SentencePiece model");
  TempDir empty("spm");
  CHECK_CONTAINS(repro::test::error_of<repro::DataError>([&] { repro::Tokenizer::load(empty.path()); }),
                 "no tokenizer.json or tokenizer.model");
  repro::SentencePieceTrainOptions o;
  o.vocab_size = 100000;  // far more pieces than the text holds
  CHECK_CONTAINS(
      repro::test::error_of<repro::DataError>([&] { repro::train_sentencepiece(corpus(), dir / "x.model", o); }),
      "training SentencePiece");
}

// Regression: linking libsentencepiece (bundled protobuf 3.14) next to Debian's libtorch
// (libprotobuf 3.21) killed every program at start-up. SentencePiece now lives in a shim opened
// with dlopen(RTLD_LOCAL | RTLD_DEEPBIND); this executable links libtorch, so it running at all,
// and running both libraries here, is the check.
TEST_CASE("regression: SentencePiece and libtorch's protobuf coexist in one process", "[models][sentencepiece]") {
  at::Tensor t = at::arange(4, at::kFloat);
  TempDir dir("spm");
  auto tok = SentencePieceTokenizer::load(train(dir));
  const auto ids = tok->encode("the model");
  CHECK(tok->decode(ids) == "the model");
  CHECK(t.sum().item<double>() == 6.0);
}

TEST_CASE("regression: special-token text is split out on the SentencePiece path", "[models][sentencepiece]") {
  // Issue 11: "<s> </s>" in the text was tokenized as plain text; HF's tokenizers (slow and fast)
  // cut added tokens out first and encode the text between them piece by piece.
  TempDir dir("spm");
  auto tok = SentencePieceTokenizer::load(train(dir));
  using Ids = std::vector<int64_t>;
  auto concat = [](std::initializer_list<Ids> parts) {
    Ids out;
    for (const Ids& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
  };
  CHECK(tok->encode("<s>") == Ids{1});
  CHECK(tok->encode("<s> </s>") == concat({{1}, tok->encode(" "), {2}}));
  CHECK(tok->encode("the<unk>model</s>", true) == concat({{1}, tok->encode("the"), {0}, tok->encode("model"), {2}}));
  auto contains = [](const Ids& ids, int64_t id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); };
  CHECK_FALSE(contains(tok->encode("< s> <s"), 1));  // no token there

  // tokenizer_config.json's added_tokens_decoder replaces the defaults, flags included.
  const auto model_dir = dir.path() / "model";
  repro::test::write_text(model_dir / "tokenizer_config.json", R"({"added_tokens_decoder": {
      "1": {"content": "<s>", "lstrip": true, "rstrip": false, "normalized": false, "single_word": false, "special": true},
      "2": {"content": "</s>", "lstrip": false, "rstrip": true, "normalized": false, "single_word": false, "special": true}}})");
  auto configured = repro::Tokenizer::load(model_dir);
  CHECK(configured->encode("a  <s> b") == concat({tok->encode("a"), {1}, tok->encode(" b")}));
  CHECK(configured->encode("a</s>  b") == concat({tok->encode("a"), {2}, tok->encode("b")}));
  CHECK_FALSE(contains(configured->encode("<unk>"), 0));  // <unk> is not listed there
}

namespace {

// The tokenizer.json transformers' LlamaConverter would make of a SentencePiece BPE model
// (transformers/convert_slow_tokenizer.py, legacy layout): its pieces as the vocab, a merge
// (left, right) for every piece that two other pieces concatenate to, ranked by the piece's id
// (SentencePiece's BPE scores fall with the id) and then by the ids of left and right.
nlohmann::json converted_json(const SentencePieceTokenizer& sp) {
  using nlohmann::json;
  const std::string meta = "\xE2\x96\x81";
  json vocab = json::object();
  std::map<std::string, int64_t> ids;
  for (int64_t id = 0; id < sp.vocab_size(); ++id) vocab[sp.id_to_piece(id)] = id, ids[sp.id_to_piece(id)] = id;
  json merges = json::array();
  for (int64_t id = 3; id < sp.vocab_size(); ++id) {
    const std::string piece = sp.id_to_piece(id);
    if (piece.size() == 6 && piece.rfind("<0x", 0) == 0) continue;  // byte pieces
    std::vector<std::tuple<int64_t, int64_t, std::string, std::string>> local;
    for (size_t cut = 1; cut < piece.size(); ++cut) {
      if ((static_cast<unsigned char>(piece[cut]) & 0xC0) == 0x80) continue;  // inside a character
      const std::string l = piece.substr(0, cut), r = piece.substr(cut);
      if (ids.count(l) && ids.count(r)) local.emplace_back(ids[l], ids[r], l, r);
    }
    std::sort(local.begin(), local.end());
    for (const auto& [li, ri, l, r] : local) merges.push_back(l + " " + r);
  }
  json added = json::array();
  for (int i = 0; i < 3; ++i)
    added.push_back({{"id", i},
                     {"content", sp.id_to_piece(i)},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", true}});
  return {{"added_tokens", added},
          {"normalizer",
           {{"type", "Sequence"},
            {"normalizers",
             {{{"type", "Prepend"}, {"prepend", meta}},
              {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", meta}}}}}},
          {"pre_tokenizer", nullptr},
          {"post_processor",
           {{"type", "TemplateProcessing"},
            {"single",
             {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
            {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}}},
          {"decoder",
           {{"type", "Sequence"},
            {"decoders",
             {{{"type", "Replace"}, {"pattern", {{"String", meta}}}, {"content", " "}},
              {{"type", "ByteFallback"}},
              {{"type", "Fuse"}},
              {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}}},
          {"model",
           {{"type", "BPE"},
            {"unk_token", "<unk>"},
            {"fuse_unk", true},
            {"byte_fallback", true},
            {"vocab", vocab},
            {"merges", merges}}}};
}

}  // namespace

TEST_CASE("tokenizer.model and its tokenizer.json agree on the golden texts", "[models][sentencepiece][golden]") {
  TempDir dir("spm");
  auto sp = SentencePieceTokenizer::load(train(dir));
  auto json_tok = repro::BpeTokenizer::from_json(converted_json(*sp).dump(), "converted tokenizer.json");
  const auto texts = nlohmann::json::parse(
      repro::test::read_text(repro::test::source_root() / "tests" / "fixtures" / "tokenizer_texts.json"))["texts"];
  int same = 0;
  for (const auto& t : texts) {
    const std::string text = t["text"].get<std::string>();
    INFO(t["name"].get<std::string>());
    for (bool bos : {false, true}) {
      const auto a = sp->encode(text, bos), b = json_tok->encode(text, bos);
      CHECK(a == b);
      same += a == b;
    }
    // SentencePiece's decoder drops control pieces and shows <unk> as " ⁇ "; HF's shows them all.
    const auto ids = sp->encode(text);
    if (std::none_of(ids.begin(), ids.end(), [](int64_t id) { return id <= 2; }))
      CHECK(json_tok->decode(ids) == sp->decode(ids));
  }
  CHECK(same == 2 * static_cast<int>(texts.size()));
}
