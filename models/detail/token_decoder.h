#pragma once
// The decoders of Hugging Face tokenizer.json files: token strings back to text, as HF's
// tokenizers does (tokenizers/src/decoders, pre_tokenizers/metaspace.rs, byte_level.rs). Each step
// maps the list of token strings to a new list (HF's decode_chain); the text is their
// concatenation. No libtorch.

#include <string>
#include <vector>

namespace repro::bpe {

struct DecoderStep {
  enum Kind {
    kByteLevel,     // GPT-2 byte mapping undone over all tokens at once, ill-formed UTF-8 -> U+FFFD
    kReplace,       // literal `pattern` -> `content` in each token
    kByteFallback,  // runs of <0xXX> tokens -> their UTF-8 text, or one U+FFFD per byte if ill-formed
    kFuse,          // all tokens -> one
    kStrip,         // up to `start` leading and `stop` trailing `pattern` characters off each token
    kMetaspace,     // `pattern` (the replacement, "▁") -> ' ', dropped in the first token unless `prepend_never`
  } kind = kFuse;
  std::string pattern, content;
  size_t start = 0, stop = 0;
  bool prepend_never = false;
};

// The text of `tokens` after `steps`. Without steps HF joins the tokens with spaces; so does this.
std::string decode_tokens(const std::vector<DecoderStep>& steps, std::vector<std::string> tokens);

}  // namespace repro::bpe
