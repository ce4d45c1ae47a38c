#include "models/sentencepiece_tokenizer.h"

#include <ATen/ATen.h>

#include <random>

#include "tests/models/models_test_util.h"
#include "tests/test_util.h"

using repro::SentencePieceTokenizer;
using repro::test::TempDir;

namespace {

// A few KB of English-like text from a fixed word list.
std::vector<std::string> corpus() {
  const std::vector<std::string> words = {"the", "model", "weights", "are", "pruned", "and", "quantized", "to",
                                          "two", "bits", "while", "perplexity", "stays", "low", "on", "every",
                                          "layer", "of", "network", "with", "calibration", "data", "from", "text"};
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
    CHECK(tok->decode(ids) == s);  // identity normalization keeps every byte and space
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
  // A SentencePiece-style tokenizer.json next to tokenizer.model defers to the latter.
  repro::test::write_text(model_dir / "tokenizer.json", R"({"model": {"type": "BPE"}, "pre_tokenizer": {"type": "Metaspace"}})");
  CHECK(repro::Tokenizer::load(model_dir)->kind() == "sentencepiece");
}

TEST_CASE("bad SentencePiece inputs are DataErrors", "[models][sentencepiece]") {
  TempDir dir("spm");
  repro::test::write_text(dir / "tokenizer.model", "definitely not a protobuf");
  CHECK_CONTAINS(repro::test::error_of<repro::DataError>([&] { SentencePieceTokenizer::load(dir / "tokenizer.model"); }),
                 "not a SentencePiece model");
  TempDir empty("spm");
  CHECK_CONTAINS(repro::test::error_of<repro::DataError>([&] { repro::Tokenizer::load(empty.path()); }),
                 "no tokenizer.json or tokenizer.model");
  repro::SentencePieceTrainOptions o;
  o.vocab_size = 100000;  // far more pieces than the text holds
  CHECK_CONTAINS(repro::test::error_of<repro::DataError>([&] { repro::train_sentencepiece(corpus(), dir / "x.model", o); }),
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
