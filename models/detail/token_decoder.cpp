#include "models/detail/token_decoder.h"

#include "models/detail/byte_level.h"
#include "models/unicode.h"

namespace repro::bpe {
namespace {

constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

// The byte of a "<0xXX>" token, or -1 (HF: six bytes, "<0x" + Rust's u8::from_str_radix + ">").
int fallback_byte(const std::string& token) {
  if (token.size() != 6 || token.compare(0, 3, "<0x") != 0 || token[5] != '>') return -1;
  int v = 0, digits = 0;
  for (size_t i = (token[3] == '+' ? 4 : 3); i < 5; ++i, ++digits) {
    const char c = token[i];
    const int d = c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
    if (d < 0) return -1;
    v = 16 * v + d;
  }
  return digits ? v : -1;
}

void flush_bytes(std::string& bytes, std::vector<std::string>& out) {
  if (bytes.empty()) return;
  if (unicode::utf8_lossy(bytes) == bytes) {
    out.push_back(bytes);
  } else {
    for (size_t i = 0; i < bytes.size(); ++i) out.emplace_back(kReplacementChar);
  }
  bytes.clear();
}

std::vector<std::string> apply(const DecoderStep& step, std::vector<std::string> tokens) {
  std::vector<std::string> out;
  switch (step.kind) {
    case DecoderStep::kByteLevel: {
      std::string bytes;
      for (const std::string& t : tokens) {
        if (!byte_level::decode(t, bytes)) bytes += t;
      }
      out.push_back(unicode::utf8_lossy(bytes));
      break;
    }
    case DecoderStep::kReplace:
      for (std::string& t : tokens) {
        std::string r;
        size_t pos = 0;
        for (size_t hit; !step.pattern.empty() && (hit = t.find(step.pattern, pos)) != std::string::npos;
             pos = hit + step.pattern.size())
          r.append(t, pos, hit - pos).append(step.content);
        out.push_back(r.append(t, pos, std::string::npos));
      }
      break;
    case DecoderStep::kByteFallback: {
      std::string bytes;
      for (std::string& t : tokens) {
        const int b = fallback_byte(t);
        if (b >= 0) {
          bytes += static_cast<char>(b);
          continue;
        }
        flush_bytes(bytes, out);
        out.push_back(std::move(t));
      }
      flush_bytes(bytes, out);
      break;
    }
    case DecoderStep::kFuse: {
      std::string all;
      for (const std::string& t : tokens) all += t;
      out.push_back(std::move(all));
      break;
    }
    case DecoderStep::kStrip:
      for (const std::string& t : tokens) {
        const auto chars = unicode::decode_utf8(t);
        auto is_content = [&](size_t i) { return t.compare(chars[i].begin, chars[i].len, step.pattern) == 0; };
        size_t first = 0, last = chars.size();
        while (first < step.start && first < chars.size() && is_content(first)) ++first;
        for (size_t k = 0; k < step.stop && last > first && is_content(last - 1); ++k) --last;
        const size_t b = first < chars.size() ? chars[first].begin : t.size();
        const size_t e = last > 0 && last > first ? chars[last - 1].begin + chars[last - 1].len : b;
        out.push_back(t.substr(b, e - b));
      }
      break;
    case DecoderStep::kMetaspace:
      for (size_t i = 0; i < tokens.size(); ++i) {
        const std::string& t = tokens[i];
        std::string r;
        size_t pos = 0;
        for (size_t hit; !step.pattern.empty() && (hit = t.find(step.pattern, pos)) != std::string::npos;
             pos = hit + step.pattern.size())
          r.append(t, pos, hit - pos).append(i == 0 && !step.prepend_never ? "" : " ");
        out.push_back(r.append(t, pos, std::string::npos));
      }
      break;
  }
  return out;
}

}  // namespace

std::string decode_tokens(const std::vector<DecoderStep>& steps, std::vector<std::string> tokens) {
  std::string text;
  if (steps.empty()) {
    for (size_t i = 0; i < tokens.size(); ++i) text += (i ? " " : "") + tokens[i];
    return text;
  }
  for (const DecoderStep& step : steps) tokens = apply(step, std::move(tokens));
  for (const std::string& t : tokens) text += t;
  return text;
}

}  // namespace repro::bpe
