#pragma once
// Small string helpers shared across the project.

#include <string>
#include <string_view>
#include <vector>

namespace repro {

// Levenshtein edit distance.
size_t edit_distance(std::string_view a, std::string_view b);

// " (did you mean 'x'?)" for the closest candidate within a small edit distance, else "".
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

std::string join(const std::vector<std::string>& parts, std::string_view sep);
std::vector<std::string> split(std::string_view text, char sep);
std::string trim(std::string_view s);
bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);

// Shell-style glob with * and ? (used by --rows).
bool glob_match(std::string_view pattern, std::string_view text);

// A file-name-safe version of a label ("SparseGPT 2:4" -> "sparsegpt_2-4").
std::string slug(std::string_view s);

}  // namespace repro
