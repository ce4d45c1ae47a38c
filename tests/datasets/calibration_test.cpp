// Calibration windows: seeded, contiguous, from the right range; C4 draws only long documents.

#include <ATen/ATen.h>

#include <set>
#include <string>

#include "core/error.h"
#include "datasets/calibration.h"
#include "tests/catch.h"
#include "tests/datasets/byte_tokenizer.h"
#include "tests/test_util.h"

namespace {

at::Generator seeded(uint64_t seed) {
  at::Generator g = at::detail::createCPUGenerator(seed);
  return g;
}

std::string decode_row(const at::Tensor& t, int64_t i) {
  std::string s;
  at::Tensor r = t[i].contiguous();
  for (int64_t k = 0; k < r.numel(); ++k)
    if (int64_t id = r[k].item<int64_t>(); id < 256) s += static_cast<char>(id);  // BOS dropped
  return s;
}

}  // namespace

TEST_CASE("stream windows are seeded and contiguous", "[datasets]") {
  at::Tensor ids = at::arange(1000, at::kLong);
  at::Tensor a = repro::sample_stream_windows(ids, 16, 32, seeded(1));
  at::Tensor b = repro::sample_stream_windows(ids, 16, 32, seeded(1));
  at::Tensor c = repro::sample_stream_windows(ids, 16, 32, seeded(2));
  REQUIRE(a.sizes() == at::IntArrayRef({16, 32}));
  CHECK(a.scalar_type() == at::kLong);
  CHECK(at::equal(a, b));
  CHECK_FALSE(at::equal(a, c));
  // ids are their positions: a contiguous window is start + [0, seqlen).
  at::Tensor starts = a.select(1, 0);
  CHECK(at::equal(a, starts.unsqueeze(1) + at::arange(32, at::kLong).unsqueeze(0)));
  CHECK(starts.min().item<int64_t>() >= 0);
  CHECK(starts.max().item<int64_t>() <= 1000 - 32 - 1);

  // Starts cover [0, numel - seqlen - 1] and never reach numel - seqlen (Python randint bounds).
  at::Tensor small = at::arange(10, at::kLong);
  at::Tensor w = repro::sample_stream_windows(small, 200, 8, seeded(3));
  std::set<int64_t> seen;
  for (int64_t i = 0; i < 200; ++i) seen.insert(w[i][0].item<int64_t>());
  CHECK(seen == std::set<int64_t>{0, 1});

  CHECK_THROWS_AS(repro::sample_stream_windows(small, 1, 10, seeded(0)), repro::DataError);
  CHECK_THROWS_AS(repro::sample_stream_windows(small, 0, 4, seeded(0)), repro::ConfigError);
}

TEST_CASE("calibration by name: embedded windows are substrings of the training text", "[datasets]") {
  repro::test::TempDir dir("calib");
  std::string text;
  for (int i = 0; i < 200; ++i) text += "paragraph " + std::to_string(i * 7919 % 1000) + " of the training text\n";
  repro::test::write_text(dir / "embedded" / "train.txt", text);
  repro::test::ByteTokenizer tok;
  repro::TokenizeOptions opt;
  opt.add_bos = false;
  at::Tensor w = repro::calibration_windows("embedded", dir.path(), tok, 8, 64, seeded(5), opt);
  REQUIRE(w.sizes() == at::IntArrayRef({8, 64}));
  CHECK(tok.calls == 1);  // the split is tokenized once
  for (int64_t i = 0; i < 8; ++i) CHECK(text.find(decode_row(w, i)) != std::string::npos);
  CHECK(at::equal(w, repro::calibration_windows("embedded", dir.path(), tok, 8, 64, seeded(5), opt)));
  CHECK_FALSE(at::equal(w, repro::calibration_windows("embedded", dir.path(), tok, 8, 64, seeded(6), opt)));
}

TEST_CASE("c4 calibration draws windows only from documents longer than seqlen", "[datasets]") {
  const int64_t seqlen = 12;
  std::vector<std::string> docs;
  std::set<std::string> long_docs;
  for (int i = 0; i < 30; ++i) {
    char c = static_cast<char>('a' + i % 26);
    if (i % 3 == 0) {
      std::string d;  // seqlen + 6 tokens with BOS, distinct content
      for (int k = 0; k < seqlen + 5; ++k) d += static_cast<char>('A' + (i + k) % 26);
      d[0] = static_cast<char>('0' + i / 3);
      docs.push_back(d);
      long_docs.insert(d);
    } else {
      docs.push_back(std::string(static_cast<size_t>(seqlen - 1), c));  // BOS + 11 = exactly seqlen: too short
    }
  }
  repro::test::ByteTokenizer tok;
  at::Tensor w = repro::sample_document_windows(docs, tok, 40, seqlen, seeded(7));
  REQUIRE(w.sizes() == at::IntArrayRef({40, seqlen}));
  CHECK(tok.calls <= 30);  // each document tokenized at most once
  for (int64_t i = 0; i < 40; ++i) {
    // Without the BOS a window may start with, it lies inside one long document.
    std::string s = decode_row(w, i);
    bool inside = false;
    for (const auto& d : long_docs) inside |= d.find(s) != std::string::npos;
    CHECK(inside);
    if (w[i][0].item<int64_t>() == repro::test::ByteTokenizer::kBos) CHECK(s.size() == static_cast<size_t>(seqlen - 1));
  }
  at::Tensor again = repro::sample_document_windows(docs, tok, 40, seqlen, seeded(7));
  CHECK(at::equal(w, again));
  CHECK_FALSE(at::equal(w, repro::sample_document_windows(docs, tok, 40, seqlen, seeded(8))));

  // No document long enough: a clear error instead of an endless loop.
  std::vector<std::string> shorts(5, std::string(static_cast<size_t>(seqlen - 1), 'x'));
  CHECK_THROWS_AS(repro::sample_document_windows(shorts, tok, 2, seqlen, seeded(0)), repro::DataError);
}

TEST_CASE("c4 calibration by name reads the train shard", "[datasets]") {
  repro::test::TempDir dir("c4calib");
  std::string lines;
  for (int i = 0; i < 10; ++i)
    lines += "{\"text\": \"" + std::string(i % 2 ? 3 : 40, static_cast<char>('a' + i)) + "\"}\n";
  repro::test::write_text(dir / "c4" / "c4-train.00000-of-01024.json", lines);
  repro::test::ByteTokenizer tok;
  at::Tensor w = repro::calibration_windows("c4", dir.path(), tok, 4, 16, seeded(1));
  REQUIRE(w.sizes() == at::IntArrayRef({4, 16}));
  for (int64_t i = 0; i < 4; ++i) {
    std::string s = decode_row(w, i);
    REQUIRE(!s.empty());
    CHECK(s == std::string(s.size(), s.back()));               // from one document
    CHECK((s.back() - 'a') % 2 == 0);                          // a long one
  }
}
