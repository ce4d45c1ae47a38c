#include "datasets/detail/py_text.h"

namespace repro::detail {
namespace {

constexpr char32_t kInvalid = 0xFFFFFFFF;

// Decodes the code point at s[i]; `len` receives its byte length (1 for an invalid byte).
char32_t decode_at(std::string_view s, size_t i, size_t& len) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  len = 1;
  if (c < 0x80) return c;
  size_t n = c >= 0xF0 && c < 0xF5 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
  if (n == 0 || c >= 0xF5 || i + n > s.size()) return kInvalid;
  char32_t cp = c & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return kInvalid;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  // Overlong forms and surrogates are invalid.
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
    return kInvalid;
  len = n;
  return cp;
}

void encode(char32_t cp, std::string& out) {
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

char32_t to_lower(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c < 0xC0) return c;
  if (c <= 0xDE) return c == 0xD7 ? c : c + 32;
  if (c >= 0x100 && c <= 0x17F) {
    bool even = c % 2 == 0;
    if ((c <= 0x12F || (c >= 0x132 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) && even) return c + 1;
    if (((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) && !even) return c + 1;
    if (c == 0x178) return 0xFF;
    return c;
  }
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
  if (c == 0x386) return 0x3AC;
  if (c >= 0x388 && c <= 0x38A) return c + 37;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 63;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

char32_t to_title(char32_t c) {
  if (c >= 'a' && c <= 'z') return c - 32;
  if (c < 0xB5) return c;
  if (c == 0xB5) return 0x39C;
  if (c >= 0xE0 && c <= 0xFE) return c == 0xF7 ? c : c - 32;
  if (c == 0xFF) return 0x178;
  if (c >= 0x100 && c <= 0x17F) {
    bool even = c % 2 == 0;
    if ((c <= 0x12F || (c >= 0x132 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) && !even) return c - 1;
    if (((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) && even) return c - 1;
    if (c == 0x131) return 'I';
    if (c == 0x17F) return 'S';
    return c;
  }
  if (c == 0x3C2) return 0x3A3;
  if (c >= 0x3B1 && c <= 0x3C9) return c - 32;
  if (c == 0x3AC) return 0x386;
  if (c >= 0x3AD && c <= 0x3AF) return c - 37;
  if (c == 0x3CC) return 0x38C;
  if (c == 0x3CD || c == 0x3CE) return c - 63;
  if (c >= 0x430 && c <= 0x44F) return c - 32;
  if (c >= 0x450 && c <= 0x45F) return c - 80;
  return c;
}

}  // namespace

bool py_isspace(char32_t c) {
  return (c >= 9 && c <= 13) || (c >= 28 && c <= 32) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

std::string_view py_lstrip(std::string_view s) {
  size_t i = 0, len = 0;
  while (i < s.size() && py_isspace(decode_at(s, i, len))) i += len;
  return s.substr(i);
}

std::string_view py_rstrip(std::string_view s) {
  // Walk forward, remembering where the last non-space character ended.
  size_t i = 0, len = 0, end = 0;
  while (i < s.size()) {
    char32_t c = decode_at(s, i, len);
    i += len;
    if (!py_isspace(c)) end = i;
  }
  return s.substr(0, end);
}

std::string_view py_strip(std::string_view s) { return py_rstrip(py_lstrip(s)); }

std::string py_capitalize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0, len = 0;
  bool first = true;
  while (i < s.size()) {
    char32_t c = decode_at(s, i, len);
    if (c == kInvalid)
      out += s[i];
    else
      encode(first ? to_title(c) : to_lower(c), out);
    first = false;
    i += len;
  }
  return out;
}

size_t py_len(std::string_view s) {
  size_t i = 0, len = 0, n = 0;
  while (i < s.size()) {
    decode_at(s, i, len);
    i += len;
    ++n;
  }
  return n;
}

}  // namespace repro::detail
