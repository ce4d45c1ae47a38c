#include "models/detail/normalizer.h"

#include "models/unicode.h"

namespace repro::bpe {

std::string normalize(const std::vector<NormalizerStep>& steps, std::string_view text) {
  std::string s(text);
  for (const NormalizerStep& step : steps) {
    switch (step.kind) {
      case NormalizerStep::kNfc:
        s = unicode::nfc(s);
        break;
      case NormalizerStep::kPrepend:
        if (!s.empty()) s.insert(0, step.text);
        break;
      case NormalizerStep::kReplace: {
        if (step.text.empty() || s.find(step.text) == std::string::npos) break;
        std::string out;
        out.reserve(s.size() + s.size() / 4);
        size_t pos = 0;
        for (size_t hit; (hit = s.find(step.text, pos)) != std::string::npos; pos = hit + step.text.size())
          out.append(s, pos, hit - pos).append(step.content);
        out.append(s, pos, std::string::npos);
        s = std::move(out);
        break;
      }
    }
  }
  return s;
}

}  // namespace repro::bpe
