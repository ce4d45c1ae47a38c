// Perplexity windows (non-overlapping, numel / seqlen, remainder dropped) and the token cache.

#include <ATen/ATen.h>

#include "core/error.h"
#include "core/hash.h"
#include "datasets/token_windows.h"
#include "tests/catch.h"
#include "tests/datasets/byte_tokenizer.h"
#include "tests/test_util.h"

namespace {

repro::TextSplit split_of(const std::string& text) {
  repro::TextSplit s;
  s.name = "test:test";
  s.text = text;
  s.sha256 = repro::sha256_hex(text);
  return s;
}

std::vector<int64_t> row(const at::Tensor& t, int64_t i) {
  at::Tensor r = t[i].contiguous();
  return std::vector<int64_t>(r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + r.numel());
}

}  // namespace

TEST_CASE("eval windows: count is numel / seqlen and contents are consecutive", "[datasets]") {
  repro::test::ByteTokenizer tok;
  auto split = split_of("abcdefghij");  // 10 bytes + BOS = 11 tokens
  at::Tensor ids = repro::tokenize_split(split, tok);
  REQUIRE(ids.numel() == 11);
  CHECK(ids[0].item<int64_t>() == repro::test::ByteTokenizer::kBos);

  at::Tensor w = repro::eval_windows(ids, 4);
  CHECK(w.sizes() == at::IntArrayRef({2, 4}));
  CHECK(w.scalar_type() == at::kLong);
  CHECK(row(w, 0) == std::vector<int64_t>{256, 'a', 'b', 'c'});
  CHECK(row(w, 1) == std::vector<int64_t>{'d', 'e', 'f', 'g'});

  CHECK(repro::eval_windows(ids, 4, 1).size(0) == 1);
  CHECK(repro::eval_windows(ids, 4, 5).size(0) == 2);
  CHECK(repro::eval_windows(ids, 11).size(0) == 1);
  CHECK(repro::eval_windows(ids.unsqueeze(0), 5).size(0) == 2);  // [1, numel] like HF input_ids
  CHECK_THROWS_AS(repro::eval_windows(ids, 12), repro::DataError);
  CHECK_THROWS_AS(repro::eval_windows(ids, 0), repro::ConfigError);

  repro::TokenizeOptions no_bos;
  no_bos.add_bos = false;
  at::Tensor w2 = repro::eval_windows(split, tok, 3, std::nullopt, no_bos);
  CHECK(w2.size(0) == 3);
  CHECK(row(w2, 2) == std::vector<int64_t>{'g', 'h', 'i'});
  // The windows do not alias the stream.
  w[0][0] = 7;
  CHECK(ids[0].item<int64_t>() == 256);
}

TEST_CASE("token cache: hit on same text and fingerprint, miss otherwise", "[datasets]") {
  repro::test::TempDir dir("tokcache");
  repro::TokenCache cache(dir / "tok");
  repro::test::ByteTokenizer tok;
  auto split = split_of("some text to tokenize");
  repro::TokenizeOptions opt;
  opt.cache = &cache;
  opt.tokenizer_fingerprint = "bytes-v1";

  at::Tensor a = repro::tokenize_split(split, tok, opt);
  CHECK(tok.calls == 1);
  at::Tensor b = repro::tokenize_split(split, tok, opt);
  CHECK(tok.calls == 1);  // served from disk
  CHECK(at::equal(a, b));

  opt.tokenizer_fingerprint = "bytes-v2";
  repro::tokenize_split(split, tok, opt);
  CHECK(tok.calls == 2);
  opt.add_bos = false;
  CHECK(repro::tokenize_split(split, tok, opt).numel() == a.numel() - 1);
  CHECK(tok.calls == 3);

  // A truncated cache file is a miss, not garbage.
  auto key = repro::TokenCache::key(split.sha256, "bytes-v1", true);
  auto file = dir / "tok" / (key + ".tok");
  auto bytes = repro::test::read_text(file);
  repro::test::write_text(file, bytes.substr(0, bytes.size() - 4));
  CHECK_FALSE(cache.get(key).has_value());
  opt.tokenizer_fingerprint = "bytes-v1";
  opt.add_bos = true;
  CHECK(at::equal(repro::tokenize_split(split, tok, opt), a));
  CHECK(tok.calls == 4);

  // No fingerprint: no caching.
  opt.tokenizer_fingerprint.clear();
  repro::tokenize_split(split, tok, opt);
  repro::tokenize_split(split, tok, opt);
  CHECK(tok.calls == 6);
}
