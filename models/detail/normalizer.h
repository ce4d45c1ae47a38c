#pragma once
// The normalizers of Hugging Face tokenizer.json files that ReproBench runs: NFC (Qwen),
// Prepend and Replace (Llama-2 / Mistral v0.1: "▁" before the text and for every space; Gemma:
// spaces to "▁"), applied in order. Replace takes literal patterns only. No libtorch.

#include <string>
#include <string_view>
#include <vector>

namespace repro::bpe {

struct NormalizerStep {
  enum Kind { kNfc, kPrepend, kReplace } kind = kNfc;
  std::string text;     // kPrepend: what to put before a non-empty text; kReplace: the pattern
  std::string content;  // kReplace: what each occurrence becomes
};

// `text` after every step (HF tokenizers/src/normalizers: Prepend adds nothing to an empty text;
// Replace rewrites non-overlapping occurrences from left to right).
std::string normalize(const std::vector<NormalizerStep>& steps, std::string_view text);

}  // namespace repro::bpe
