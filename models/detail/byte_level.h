#pragma once
// GPT-2's bytes_to_unicode: every byte maps to one printable character, so byte-level BPE works on
// text with no spaces or control characters. Printable Latin-1 bytes ('!'..'~', U+00A1..U+00AC,
// U+00AE..U+00FF) map to themselves; the other 68 bytes map to U+0100, U+0101, ... in byte order
// (so ' ' -> 'Ġ' U+0120, '\n' -> 'Ċ' U+010A). No libtorch.

#include <string>
#include <string_view>

namespace repro::byte_level {

// The code point byte `b` maps to.
char32_t byte_to_char(unsigned char b);
// The mapped form of `bytes` (UTF-8).
std::string encode(std::string_view bytes);
// Appends the bytes that the mapped token `token` stands for to `out` and returns true; returns
// false (appending nothing) when some character of `token` is not a mapped byte.
bool decode(std::string_view token, std::string& out);

}  // namespace repro::byte_level
