#pragma once
// The few Python `str` operations that lm-evaluation-harness and the Hugging Face dataset scripts
// apply to text, on UTF-8 bytes: strip() with Python's notion of whitespace, capitalize(), len().
// Invalid UTF-8 bytes count as one character each and are never changed.

#include <cstddef>
#include <string>
#include <string_view>

namespace repro::detail {

// str.isspace() for one code point (ASCII controls 9-13 and 28-31, space, U+0085, U+00A0, U+1680,
// U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000).
bool py_isspace(char32_t c);

std::string_view py_strip(std::string_view s);
std::string_view py_lstrip(std::string_view s);
std::string_view py_rstrip(std::string_view s);

// str.capitalize(): the first character in title case, the rest in lower case. Case mapping
// covers ASCII, Latin-1, Latin Extended-A, basic Greek and Cyrillic; other characters (and the
// rare one-to-many mappings such as U+00DF) are left as they are.
std::string py_capitalize(std::string_view s);

// len(str): the number of code points.
size_t py_len(std::string_view s);

}  // namespace repro::detail
