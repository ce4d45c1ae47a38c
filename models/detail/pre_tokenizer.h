#pragma once
// Hand-written matchers for the pre-tokenizer regexes of byte-level BPE tokenizers. std::regex has
// neither \p{L} / \p{N} nor the (?!\S) look-ahead these patterns use, so each supported pattern is
// matched by code that follows the regex's leftmost-first alternation and backtracking exactly
// (see pre_tokenizer.cpp for the pattern texts and the reasoning per alternative). No libtorch.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace repro::bpe {

enum class SplitPattern {
  kGpt2,    // GPT-2 / ByteLevel(use_regex=true): 's|'t|... ?\p{L}+| ?\p{N}+|...
  kLlama3,  // Llama-3: (?i:'s|...)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|...
  kQwen2,   // Qwen2/2.5/3: as Llama-3 but single digits (\p{N})
};

// The exact regex text of each pattern as it appears in tokenizer.json (after JSON unescaping).
std::string_view pattern_text(SplitPattern pattern);

// Which supported pattern `regex` is, or nullopt for any other regex.
std::optional<SplitPattern> recognize_pattern(std::string_view regex);

// Byte spans [begin, end) of `text` under `pattern` with HF's Split behavior "Isolated": every
// match is a piece, and any text between matches is a piece of its own. The spans cover `text`
// in order. Ill-formed UTF-8 bytes count as characters that are neither letters, numbers nor
// whitespace.
std::vector<std::pair<size_t, size_t>> split_pieces(std::string_view text, SplitPattern pattern);

// HF's SplitDelimiterBehavior: what becomes of the delimiters a Split finds.
enum class SplitBehavior {
  kRemoved,             // dropped
  kIsolated,            // pieces of their own
  kMergedWithPrevious,  // appended to the piece before
  kMergedWithNext,      // prepended to the piece after (Metaspace: "a▁▁b" -> "a", "▁", "▁b")
  kContiguous,          // consecutive delimiters form one piece
};

// Byte spans of `text` split at the non-overlapping occurrences (leftmost first) of the literal
// `delimiter` (non-empty), the occurrences treated as `behavior` says, as HF's
// NormalizedString::split does. The spans are in order and never empty.
std::vector<std::pair<size_t, size_t>> split_literal(std::string_view text, std::string_view delimiter,
                                                     SplitBehavior behavior);

}  // namespace repro::bpe
