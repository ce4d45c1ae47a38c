#include "models/unicode.h"

#include <algorithm>

namespace repro::unicode {
namespace {

// Length of the well-formed UTF-8 sequence starting at s[i] (1..4), or the length of the
// maximal ill-formed prefix negated (-1..-3) when it is not well-formed (Unicode 3.9, table 3-7).
int utf8_sequence(std::string_view s, size_t i, char32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  int need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1, cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2, cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3, cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return -1;
  }
  for (int k = 1; k <= need; ++k) {
    if (i + k >= s.size()) return -k;
    const auto b = static_cast<unsigned char>(s[i + k]);
    if (b < lo || b > hi) return -k;
    lo = 0x80, hi = 0xBF;
    cp = (cp << 6) | (b & 0x3F);
  }
  return need + 1;
}

bool in_ranges(char32_t cp, const detail::CodeRange* ranges, size_t n) {
  const detail::CodeRange* end = ranges + n;
  const detail::CodeRange* it =
      std::upper_bound(ranges, end, cp, [](char32_t c, const detail::CodeRange& r) { return c < r.lo; });
  return it != ranges && cp <= (it - 1)->hi;
}

uint8_t combining_class(char32_t cp) {
  using detail::CccRange;
  const CccRange* begin = detail::kCccRanges;
  const CccRange* end = begin + detail::kCccRangeCount;
  const CccRange* it = std::upper_bound(begin, end, cp, [](char32_t c, const CccRange& r) { return c < r.lo; });
  return (it != begin && cp <= (it - 1)->hi) ? (it - 1)->ccc : 0;
}

// Hangul syllable arithmetic (Unicode 3.12).
constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr char32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

void decompose(char32_t cp, std::vector<char32_t>& out) {
  if (cp >= kSBase && cp < kSBase + kSCount) {
    const char32_t s = cp - kSBase;
    out.push_back(kLBase + s / kNCount);
    out.push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount) out.push_back(kTBase + s % kTCount);
    return;
  }
  using detail::Decomposition;
  const Decomposition* begin = detail::kDecompositions;
  const Decomposition* end = begin + detail::kDecompositionCount;
  const Decomposition* it =
      std::lower_bound(begin, end, cp, [](const Decomposition& d, char32_t c) { return d.cp < c; });
  if (it == end || it->cp != cp) {
    out.push_back(cp);
    return;
  }
  decompose(it->first, out);
  if (it->second) decompose(it->second, out);
}

// The primary composite of (a, b), or 0.
char32_t compose(char32_t a, char32_t b) {
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount)
    return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase && b < kTBase + kTCount)
    return a + (b - kTBase);
  using detail::Composition;
  const Composition* begin = detail::kCompositions;
  const Composition* end = begin + detail::kCompositionCount;
  const Composition* it = std::lower_bound(begin, end, std::make_pair(a, b), [](const Composition& c, auto key) {
    return c.first < key.first || (c.first == key.first && c.second < key.second);
  });
  return (it != end && it->first == a && it->second == b) ? it->composite : 0;
}

// NFC of a run of well-formed characters.
void nfc_run(const std::vector<char32_t>& run, std::string& out) {
  std::vector<char32_t> d;
  d.reserve(run.size() + 4);
  for (char32_t cp : run) decompose(cp, d);
  // Canonical ordering: stable sort of each run of non-starters by combining class.
  for (size_t i = 0; i < d.size();) {
    if (combining_class(d[i]) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < d.size() && combining_class(d[j]) != 0) ++j;
    std::stable_sort(d.begin() + static_cast<std::ptrdiff_t>(i), d.begin() + static_cast<std::ptrdiff_t>(j),
                     [](char32_t a, char32_t b) { return combining_class(a) < combining_class(b); });
    i = j;
  }
  // Canonical composition.
  std::vector<char32_t> c;
  c.reserve(d.size());
  std::ptrdiff_t starter = -1;
  int last_ccc = 0;
  for (char32_t cp : d) {
    const int ccc = combining_class(cp);
    if (starter >= 0) {
      const bool adjacent = static_cast<std::ptrdiff_t>(c.size()) - 1 == starter;
      const bool blocked = !adjacent && (last_ccc == 0 || last_ccc >= ccc);
      if (!blocked) {
        if (char32_t p = compose(c[static_cast<size_t>(starter)], cp)) {
          c[static_cast<size_t>(starter)] = p;
          continue;
        }
      }
    }
    if (ccc == 0) starter = static_cast<std::ptrdiff_t>(c.size());
    c.push_back(cp);
    last_ccc = ccc;
  }
  for (char32_t cp : c) append_utf8(out, cp);
}

}  // namespace

std::vector<Char> decode_utf8(std::string_view text) {
  std::vector<Char> out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    const int n = utf8_sequence(text, i, cp);
    if (n > 0) {
      out.push_back({cp, static_cast<uint32_t>(i), static_cast<uint32_t>(n), true});
      i += static_cast<size_t>(n);
    } else {
      out.push_back({0xFFFD, static_cast<uint32_t>(i), 1, false});
      i += 1;
    }
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool is_letter(char32_t cp) {
  if (cp < 0x80) return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
  return in_ranges(cp, detail::kLetterRanges, detail::kLetterRangeCount);
}

bool is_number(char32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  return in_ranges(cp, detail::kNumberRanges, detail::kNumberRangeCount);
}

bool is_word_char(char32_t cp) {
  if (cp < 0x80) return ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') || (cp >= '0' && cp <= '9') || cp == '_';
  return in_ranges(cp, detail::kWordRanges, detail::kWordRangeCount);
}

bool is_whitespace(char32_t cp) {
  switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20: case 0x85: case 0xA0:
    case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

std::string nfc(std::string_view text) {
  // Fast path: below U+0300 there are no combining marks, and every precomposed character there
  // is its own NFC, so such text is already normalized.
  bool simple = true;
  for (unsigned char b : text) {
    if (b >= 0xCC) {  // lead bytes of U+0300 and above
      simple = false;
      break;
    }
  }
  if (simple) return std::string(text);

  std::string out;
  out.reserve(text.size());
  std::vector<char32_t> run;
  for (const Char& ch : decode_utf8(text)) {
    if (ch.valid) {
      run.push_back(ch.cp);
      continue;
    }
    nfc_run(run, out);
    run.clear();
    out.append(text.substr(ch.begin, ch.len));
  }
  nfc_run(run, out);
  return out;
}

std::string utf8_lossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    char32_t cp = 0;
    const int n = utf8_sequence(bytes, i, cp);
    if (n > 0) {
      out.append(bytes.substr(i, static_cast<size_t>(n)));
      i += static_cast<size_t>(n);
    } else {
      append_utf8(out, 0xFFFD);
      i += static_cast<size_t>(-n);
    }
  }
  return out;
}

}  // namespace repro::unicode
