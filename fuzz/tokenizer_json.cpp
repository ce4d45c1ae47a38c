// The tokenizer.json parser (models/bpe_tokenizer.h) and the tokenizer it builds. The input is
// up to three parts separated by NUL bytes (which JSON text cannot hold):
//   tokenizer.json \0 tokenizer_config.json \0 text
// A tokenizer that loads then encodes the text (a fixed sample when none is given), with and
// without BOS, and decodes the ids, and some arbitrary ids: encoding must give ids the tokenizer
// knows (below vocab_size()).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "models/bpe_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::string_view parts[3];
  for (int i = 0; i < 3 && !rest.empty(); ++i) {
    const size_t nul = i < 2 ? rest.find('\0') : std::string_view::npos;
    parts[i] = rest.substr(0, nul);
    rest = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
  }
  const std::string_view text = parts[2].empty() ? std::string_view("Hello, world!  It's 2024:\n\tcafé ▁x <s>") : parts[2];
  repro::fuzz::expect_clean([&] {
    auto tok = repro::BpeTokenizer::from_json(parts[0], "tokenizer.json", parts[1]);
    const int64_t vocab = tok->vocab_size();
    for (bool bos : {false, true}) {
      const std::vector<int64_t> ids = tok->encode(text, bos);
      for (int64_t id : ids) REPRO_FUZZ_CHECK(id >= 0 && id < vocab);
      (void)tok->decode(ids);
    }
    // Ids a caller may hand decode(): out of range, negative, an added token's.
    std::vector<int64_t> raw;
    for (size_t i = 0; i + 1 < text.size() && raw.size() < 16; i += 2)
      raw.push_back(static_cast<int8_t>(text[i]) * 256 + static_cast<uint8_t>(text[i + 1]));
    raw.push_back(vocab);
    raw.push_back(INT64_MAX);
    (void)tok->decode(raw);
  });
  return 0;
}
