#include "models/detail/byte_level.h"

#include <array>

#include "models/unicode.h"

namespace repro::byte_level {
namespace {

struct Tables {
  std::array<char32_t, 256> to_char{};
  std::array<std::string, 256> to_utf8;
  std::array<int, 324> to_byte{};  // code point -> byte, -1 when not a mapped byte

  Tables() {
    to_byte.fill(-1);
    auto printable = [](int b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF); };
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      to_char[static_cast<size_t>(b)] = printable(b) ? static_cast<char32_t>(b) : next++;
      unicode::append_utf8(to_utf8[static_cast<size_t>(b)], to_char[static_cast<size_t>(b)]);
      to_byte[to_char[static_cast<size_t>(b)]] = b;
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

char32_t byte_to_char(unsigned char b) { return tables().to_char[b]; }

std::string encode(std::string_view bytes) {
  const Tables& t = tables();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) out += t.to_utf8[b];
  return out;
}

bool decode(std::string_view token, std::string& out) {
  const Tables& t = tables();
  std::string bytes;
  for (const unicode::Char& ch : unicode::decode_utf8(token)) {
    if (!ch.valid || ch.cp >= t.to_byte.size() || t.to_byte[ch.cp] < 0) return false;
    bytes += static_cast<char>(t.to_byte[ch.cp]);
  }
  out += bytes;
  return true;
}

}  // namespace repro::byte_level
