#pragma once
// Added tokens (special or not) are cut out of the text before anything else runs, as Hugging
// Face's tokenizers does (tokenizers/src/tokenizer/added_vocabulary.rs, AddedVocabulary::
// find_matches): matches are found leftmost-longest and never overlap, then each one is
//  - dropped when the token is single_word and a word character (\w) touches it on either side
//    (the text it covered is not searched again),
//  - widened over the whitespace (\s, Unicode White_Space) before it with lstrip, but not into
//    the previous match, and over the whitespace after it with rstrip.
// Used by both tokenizer.json pipelines and SentencePiece models. No libtorch.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace repro::bpe {

struct AddedToken {
  int64_t id = 0;
  std::string content;
  bool special = false;    // only decode(skip_special_tokens) looks at it in HF
  bool normalized = true;  // matched in the normalized text (else in the raw text)
  bool lstrip = false, rstrip = false, single_word = false;
};

class AddedTokenMatcher {
 public:
  // `pattern` is the text `token` matches (HF normalizes a normalized token's content first).
  // `token` must outlive the matcher. An empty pattern is ignored.
  void add(const std::string& pattern, const AddedToken* token);
  bool empty() const { return nodes_.size() <= 1; }

  // One piece of the text: [begin, end) bytes, and the token it is (nullptr: plain text).
  struct Segment {
    size_t begin, end;
    const AddedToken* token;
  };
  // Cuts `text` at the tokens. Plain segments are never empty; they and the token segments
  // cover `text` in order (a token's segment includes the whitespace it strips).
  std::vector<Segment> split(std::string_view text) const;

 private:
  struct Node {
    std::vector<std::pair<unsigned char, int32_t>> next;  // sorted by byte
    const AddedToken* token = nullptr;                    // a pattern ends here
  };
  // The longest pattern that starts at text[pos]: (its length, token), or (0, nullptr).
  std::pair<size_t, const AddedToken*> longest_at(std::string_view text, size_t pos) const;

  std::vector<Node> nodes_{1};  // nodes_[0]: the root
  bool first_byte_[256] = {};
};

}  // namespace repro::bpe
