#include "report/text_escape.h"

#include <algorithm>
#include <array>
#include <utility>

namespace repro::report {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

}  // namespace

std::string one_line(std::string_view text) {
  std::string out;
  bool pending_space = false;
  for (char c : text) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

std::string markdown_escape(std::string_view text) {
  std::string out;
  for (char c : one_line(text)) {
    if (c == '|') out += "\\|";
    else out += c;
  }
  return out;
}

std::string markdown_code(std::string_view text) {
  std::string body = one_line(text);
  size_t longest = 0, run = 0;
  for (char c : body) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  std::string fence(longest + 1, '`');
  // A span that starts or ends with a backtick needs a space between it and the fence.
  bool pad = !body.empty() && (body.front() == '`' || body.back() == '`');
  std::string inner = pad ? " " + body + " " : body;
  return fence + inner + fence;
}

std::string latex_escape(std::string_view text) {
  static const std::array<std::pair<std::string_view, std::string_view>, 9> kSymbols = {{
      {"≥", "$\\geq$"},
      {"≤", "$\\leq$"},
      {"Δ", "$\\Delta$"},
      {"×", "$\\times$"},
      {"±", "$\\pm$"},
      {"≈", "$\\approx$"},
      {"→", "$\\rightarrow$"},
      {"–", "--"},
      {"—", "---"},
  }};
  std::string line = one_line(text);
  std::string_view s = line;
  std::string out;
  for (size_t i = 0; i < s.size();) {
    bool replaced = false;
    if (static_cast<unsigned char>(s[i]) >= 0x80) {
      for (const auto& [from, to] : kSymbols) {
        if (s.substr(i, from.size()) == from) {
          out += to;
          i += from.size();
          replaced = true;
          break;
        }
      }
    }
    if (replaced) continue;
    char c = s[i++];
    switch (c) {
      case '_': case '%': case '&': case '#': case '$': case '{': case '}':
        out += '\\';
        out += c;
        break;
      case '~': out += "\\textasciitilde{}"; break;
      case '^': out += "\\textasciicircum{}"; break;
      case '\\': out += "\\textbackslash{}"; break;
      case '<': out += "\\textless{}"; break;
      case '>': out += "\\textgreater{}"; break;
      case '|': out += "\\textbar{}"; break;
      default: out += c;
    }
  }
  return out;
}

std::string csv_field(std::string_view text) {
  bool quote = text.find_first_of(",\"\r\n") != std::string_view::npos ||
               (!text.empty() && (text.front() == ' ' || text.back() == ' '));
  if (!quote) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += "\"\"";
    else out += c;
  }
  out += '"';
  return out;
}

size_t display_width(std::string_view text) {
  return static_cast<size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace repro::report
