#pragma once
// A tokenizer for dataset tests: one id per byte (0-255), BOS = 256, EOS = 257. Counts its encode
// calls so tests can see cache hits and how often documents are tokenized.

#include <atomic>
#include <string>
#include <string_view>
#include <vector>

#include "models/tokenizer.h"

namespace repro::test {

class ByteTokenizer : public Tokenizer {
 public:
  static constexpr int64_t kBos = 256;
  static constexpr int64_t kEos = 257;

  std::vector<int64_t> encode(std::string_view text, bool add_bos = false) const override {
    ++calls;
    std::vector<int64_t> ids;
    ids.reserve(text.size() + 1);
    if (add_bos) ids.push_back(kBos);
    for (unsigned char c : text) ids.push_back(c);
    return ids;
  }
  std::string decode(const std::vector<int64_t>& ids) const override {
    std::string s;
    for (int64_t id : ids)
      if (id < 256) s += static_cast<char>(id);
    return s;
  }
  int64_t vocab_size() const override { return 258; }
  std::optional<int64_t> bos_id() const override { return kBos; }
  std::optional<int64_t> eos_id() const override { return kEos; }
  std::string kind() const override { return "test-bytes"; }

  mutable std::atomic<int> calls{0};
};

}  // namespace repro::test
