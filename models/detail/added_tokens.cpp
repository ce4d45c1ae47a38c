#include "models/detail/added_tokens.h"

#include <algorithm>

#include "models/unicode.h"

namespace repro::bpe {
namespace {

// The last character of text[0, end) (end > 0).
unicode::Char last_char(std::string_view text, size_t end) {
  size_t begin = end - 1;
  while (begin > 0 && end - begin < 4 && (static_cast<unsigned char>(text[begin]) & 0xC0) == 0x80) --begin;
  for (const unicode::Char& c : unicode::decode_utf8(text.substr(begin, end - begin))) {
    if (begin + c.begin + c.len == end) return {c.cp, static_cast<uint32_t>(begin + c.begin), c.len, c.valid};
  }
  return {0xFFFD, static_cast<uint32_t>(end - 1), 1, false};
}

// The first character of text[begin, ...) (begin < text.size()).
unicode::Char first_char(std::string_view text, size_t begin) {
  const unicode::Char c = unicode::decode_utf8(text.substr(begin, 4)).front();
  return {c.cp, static_cast<uint32_t>(begin + c.begin), c.len, c.valid};
}

bool is_space(const unicode::Char& c) { return c.valid && unicode::is_whitespace(c.cp); }
bool is_word(const unicode::Char& c) { return c.valid && unicode::is_word_char(c.cp); }

}  // namespace

void AddedTokenMatcher::add(const std::string& pattern, const AddedToken* token) {
  if (pattern.empty()) return;
  int32_t node = 0;
  for (const char ch : pattern) {
    const auto b = static_cast<unsigned char>(ch);
    auto& next = nodes_[static_cast<size_t>(node)].next;
    auto it = std::lower_bound(next.begin(), next.end(), std::make_pair(b, int32_t{0}),
                               [](const auto& x, const auto& y) { return x.first < y.first; });
    if (it != next.end() && it->first == b) {
      node = it->second;
      continue;
    }
    const auto child = static_cast<int32_t>(nodes_.size());
    next.insert(it, {b, child});
    nodes_.emplace_back();  // may move `next`, which is not used again
    node = child;
  }
  // Two tokens with one pattern: the first keeps it (HF's trie keeps one value per pattern).
  if (!nodes_[static_cast<size_t>(node)].token) nodes_[static_cast<size_t>(node)].token = token;
  first_byte_[static_cast<unsigned char>(pattern[0])] = true;
}

std::pair<size_t, const AddedToken*> AddedTokenMatcher::longest_at(std::string_view text, size_t pos) const {
  std::pair<size_t, const AddedToken*> best{0, nullptr};
  size_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    const auto b = static_cast<unsigned char>(text[i]);
    const auto& next = nodes_[node].next;
    auto it = std::lower_bound(next.begin(), next.end(), std::make_pair(b, int32_t{0}),
                               [](const auto& x, const auto& y) { return x.first < y.first; });
    if (it == next.end() || it->first != b) break;
    node = static_cast<size_t>(it->second);
    if (nodes_[node].token) best = {i + 1 - pos, nodes_[node].token};
  }
  return best;
}

std::vector<AddedTokenMatcher::Segment> AddedTokenMatcher::split(std::string_view text) const {
  std::vector<Segment> out;
  size_t done = 0;  // text before `done` is in `out` (HF's start_offset)
  for (size_t pos = 0; pos < text.size();) {
    if (!first_byte_[static_cast<unsigned char>(text[pos])]) {
      ++pos;
      continue;
    }
    const auto [len, token] = longest_at(text, pos);
    if (!token) {
      ++pos;
      continue;
    }
    size_t start = pos, stop = pos + len;
    pos = stop;  // the next match starts after this one, whatever becomes of it
    if (token->single_word) {
      const bool word_before = start > 0 && is_word(last_char(text, start));
      const bool word_after = stop < text.size() && is_word(first_char(text, stop));
      if (word_before || word_after) continue;
    }
    if (token->lstrip) {
      size_t s = start;
      while (s > 0) {
        const unicode::Char c = last_char(text, s);
        if (!is_space(c)) break;
        s = c.begin;
      }
      start = std::max(s, done);
    }
    if (token->rstrip) {
      while (stop < text.size()) {
        const unicode::Char c = first_char(text, stop);
        if (!is_space(c)) break;
        stop += c.len;
      }
    }
    if (done < start) out.push_back({done, start, nullptr});
    out.push_back({start, stop, token});
    done = stop;
  }
  if (done < text.size()) out.push_back({done, text.size(), nullptr});
  return out;
}

}  // namespace repro::bpe
