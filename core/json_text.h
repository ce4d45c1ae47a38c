#pragma once
// Parsing JSON text that comes from a user's file, where every way the text can fail is bad input.
//
// nlohmann::json::parse reports a syntax error as json::parse_error (with the byte offset), but a
// number literal beyond the range of double ("1e999") as json::out_of_range with id 406
// ("number overflow parsing '1e999'"; nlohmann/json docs, "Exceptions", out_of_range.406). A
// reader that catches only parse_error lets the second escape as a foreign exception; fuzzing
// found it in config.json (fuzz/README.md). Readers go through parse_json_text instead.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace repro {

// Returns the document, or nullopt with *why set to a one-line reason without nlohmann's
// "[json.exception.<kind>.<id>] " prefix: "parse error at byte N: <detail>" for a syntax error,
// "number overflow parsing '1e999'" for an out-of-range number; at most 200 characters.
inline std::optional<nlohmann::json> parse_json_text(std::string_view text, std::string* why) {
  const auto strip = [](const char* what) {
    std::string s(what);
    const size_t pos = s.find("] ");
    return pos == std::string::npos ? s : s.substr(pos + 2);
  };
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    // what() is "[json.exception.parse_error.101] parse error at line L, column C: <detail>"; the
    // byte offset is the position readers report.
    std::string detail = strip(e.what());
    const size_t colon = detail.find(": ");
    if (colon != std::string::npos) detail = detail.substr(colon + 2);
    *why = "parse error at byte " + std::to_string(e.byte) + ": " + detail;
  } catch (const nlohmann::json::exception& e) {  // out_of_range.406: a number beyond double
    *why = strip(e.what());
  }
  // The detail quotes the offending token, which a corrupt file can make arbitrarily long.
  if (why->size() > 200) *why = why->substr(0, 197) + "...";
  return std::nullopt;
}

}  // namespace repro
