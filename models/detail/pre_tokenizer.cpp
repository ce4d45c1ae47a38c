#include "models/detail/pre_tokenizer.h"

#include <algorithm>

#include "models/unicode.h"

namespace repro::bpe {
namespace {

constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr std::string_view kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// Character classes of one decoded character, computed once per character.
struct Cls {
  char32_t cp;
  bool letter, number, space, newline;                         // \p{L}, \p{N}, \s, [\r\n]
  bool other() const { return !letter && !number && !space; }  // [^\s\p{L}\p{N}]
};

class Matcher {
 public:
  Matcher(std::string_view text, SplitPattern pattern) : pattern_(pattern) {
    chars_ = unicode::decode_utf8(text);
    cls_.reserve(chars_.size());
    for (const auto& c : chars_) {
      const char32_t cp = c.cp;
      cls_.push_back({cp, c.valid && unicode::is_letter(cp), c.valid && unicode::is_number(cp),
                      c.valid && unicode::is_whitespace(cp), cp == U'\r' || cp == U'\n'});
    }
  }

  size_t size() const { return cls_.size(); }
  size_t byte_begin(size_t i) const { return chars_[i].begin; }

  // End (exclusive, in characters) of the match starting at character i, or 0 when none.
  size_t match(size_t i) const {
    if (pattern_ == SplitPattern::kGpt2) return match_gpt2(i);
    return match_llama3(i, pattern_ == SplitPattern::kLlama3 ? 3 : 1);
  }

 private:
  size_t n() const { return cls_.size(); }
  bool is(size_t i, char32_t cp) const { return i < n() && cls_[i].cp == cp; }

  size_t run(size_t i, bool Cls::*member) const {
    while (i < n() && cls_[i].*member) ++i;
    return i;
  }
  size_t run_other(size_t i) const {
    while (i < n() && cls_[i].other()) ++i;
    return i;
  }

  // 's|'t|'re|'ve|'m|'ll|'d, optionally case-insensitive (Unicode simple case folding: only 's'
  // has a non-ASCII equivalent here, U+017F LATIN SMALL LETTER LONG S).
  size_t contraction(size_t i, bool fold) const {
    if (!is(i, U'\'') || i + 1 >= n()) return 0;
    auto eq = [&](size_t k, char32_t lower) {
      if (k >= n()) return false;
      const char32_t c = cls_[k].cp;
      if (c == lower) return true;
      if (!fold) return false;
      return c == lower - 32 || (lower == U's' && c == 0x17F);
    };
    if (eq(i + 1, U's') || eq(i + 1, U't')) return i + 2;
    if ((eq(i + 1, U'r') || eq(i + 1, U'v')) && eq(i + 2, U'e')) return i + 3;
    if (eq(i + 1, U'm')) return i + 2;
    if (eq(i + 1, U'l') && eq(i + 2, U'l')) return i + 3;
    if (eq(i + 1, U'd')) return i + 2;
    return 0;
  }

  // \s+(?!\S) then \s+ : a whitespace run, leaving its last character for the next piece when a
  // non-space follows (so " word" keeps its space), unless the run is one character long.
  size_t trailing_space(size_t i) const {
    if (!cls_[i].space) return 0;
    const size_t j = run(i, &Cls::space);
    if (j == n() || j - 1 == i) return j;
    return j - 1;
  }

  size_t match_gpt2(size_t i) const {
    if (size_t e = contraction(i, false)) return e;
    const size_t s = is(i, U' ') ? i + 1 : i;  // the optional leading space of the next three
    if (s < n() && cls_[s].letter) return run(s, &Cls::letter);
    if (s < n() && cls_[s].number) return run(s, &Cls::number);
    if (s < n() && cls_[s].other()) return run_other(s);
    // With the space alternatives exhausted, a lone leading space retries without it: a space is
    // \s, so only the whitespace alternatives remain.
    return trailing_space(i);
  }

  size_t match_llama3(size_t i, size_t max_digits) const {
    const Cls& c = cls_[i];
    if (size_t e = contraction(i, true)) return e;
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (!c.newline && !c.letter && !c.number && i + 1 < n() && cls_[i + 1].letter) return run(i + 1, &Cls::letter);
    if (c.letter) return run(i, &Cls::letter);
    // \p{N}{1,3} (Llama-3) or \p{N} (Qwen2)
    if (c.number) {
      size_t e = i;
      while (e < n() && e - i < max_digits && cls_[e].number) ++e;
      return e;
    }
    // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
    const size_t s = is(i, U' ') && i + 1 < n() && cls_[i + 1].other() ? i + 1 : i;
    if (cls_[s].other()) return run(run_other(s), &Cls::newline);
    // \s*[\r\n]+ : greedy \s* backs off to the last newline of the whitespace run.
    if (c.space) {
      const size_t j = run(i, &Cls::space);
      for (size_t k = j; k > i; --k) {
        if (cls_[k - 1].newline) return k;
      }
    }
    return trailing_space(i);
  }

  SplitPattern pattern_;
  std::vector<unicode::Char> chars_;
  std::vector<Cls> cls_;
};

}  // namespace

std::string_view pattern_text(SplitPattern pattern) {
  switch (pattern) {
    case SplitPattern::kGpt2:
      return kGpt2Pattern;
    case SplitPattern::kLlama3:
      return kLlama3Pattern;
    case SplitPattern::kQwen2:
      return kQwen2Pattern;
  }
  return {};
}

std::optional<SplitPattern> recognize_pattern(std::string_view regex) {
  for (SplitPattern p : {SplitPattern::kGpt2, SplitPattern::kLlama3, SplitPattern::kQwen2}) {
    if (regex == pattern_text(p)) return p;
  }
  return std::nullopt;
}

std::vector<std::pair<size_t, size_t>> split_pieces(std::string_view text, SplitPattern pattern) {
  std::vector<std::pair<size_t, size_t>> out;
  if (text.empty()) return out;
  const Matcher m(text, pattern);
  auto byte_at = [&](size_t i) { return i < m.size() ? m.byte_begin(i) : text.size(); };
  size_t gap = 0;  // start of text not yet covered by a match
  for (size_t i = 0; i < m.size();) {
    const size_t e = m.match(i);
    if (e == 0) {
      ++i;
      continue;
    }
    if (gap < i) out.emplace_back(byte_at(gap), byte_at(i));
    out.emplace_back(byte_at(i), byte_at(e));
    i = gap = e;
  }
  if (gap < m.size()) out.emplace_back(byte_at(gap), text.size());
  return out;
}

std::vector<std::pair<size_t, size_t>> split_literal(std::string_view text, std::string_view delimiter,
                                                     SplitBehavior behavior) {
  struct Span {
    size_t begin, end;
    bool match;
  };
  std::vector<Span> spans;  // covering `text`, no empty gaps
  size_t prev = 0;
  for (size_t hit; (hit = text.find(delimiter, prev)) != std::string_view::npos; prev = hit + delimiter.size()) {
    if (prev != hit) spans.push_back({prev, hit, false});
    spans.push_back({hit, hit + delimiter.size(), true});
  }
  if (prev != text.size()) spans.push_back({prev, text.size(), false});

  // The folds of HF's NormalizedString::split (tokenizers/src/tokenizer/normalizer.rs).
  std::vector<std::pair<size_t, size_t>> out;
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::kRemoved:
      for (const Span& s : spans) {
        if (!s.match) out.emplace_back(s.begin, s.end);
      }
      break;
    case SplitBehavior::kIsolated:
      for (const Span& s : spans) out.emplace_back(s.begin, s.end);
      break;
    case SplitBehavior::kMergedWithPrevious:
      for (const Span& s : spans) {
        if (s.match && !previous_match && !out.empty()) {
          out.back().second = s.end;
        } else {
          out.emplace_back(s.begin, s.end);
        }
        previous_match = s.match;
      }
      break;
    case SplitBehavior::kMergedWithNext:
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->match && !previous_match && !out.empty()) {
          out.back().first = it->begin;
        } else {
          out.emplace_back(it->begin, it->end);
        }
        previous_match = it->match;
      }
      std::reverse(out.begin(), out.end());
      break;
    case SplitBehavior::kContiguous:
      for (const Span& s : spans) {
        if (s.match == previous_match && !out.empty()) {
          out.back().second = s.end;
        } else {
          out.emplace_back(s.begin, s.end);
        }
        previous_match = s.match;
      }
      break;
  }
  return out;
}

}  // namespace repro::bpe
