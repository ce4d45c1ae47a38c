// tokenizer.json / tokenizer_config.json parsing for BpeTokenizer. Everything unsupported or
// malformed is one DataError line that names the file and the offending field.
#include <algorithm>
#include <functional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_text.h"
#include "models/bpe_tokenizer.h"
#include "models/unicode.h"

namespace repro {
namespace {

// How far past the vocabulary's size a model.vocab id may lie (gaps allowed, not sparse ids).
constexpr int64_t kMaxIdGap = int64_t{1} << 20;


using nlohmann::json;

std::string type_of(const json& j) {
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) return "";
  return j["type"].get<std::string>();
}

std::string short_text(std::string_view s, size_t max = 60) {
  return s.size() <= max ? std::string(s) : std::string(s.substr(0, max)) + "...";
}

// HF writes special tokens in tokenizer_config.json as a string or as {"content": ...}.
std::optional<std::string> token_content(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.contains("content") && j["content"].is_string()) return j["content"].get<std::string>();
  return std::nullopt;
}

}  // namespace

void BpeTokenizer::parse(std::string_view json_text, std::string_view config_text) {
  try {
    parse_json(json_text, config_text);
  } catch (const json::exception& e) {  // a field of an unexpected JSON type deep inside
    fail(fmt::format("unexpected content ({})", e.what()));
  }
}

void BpeTokenizer::parse_json(std::string_view json_text, std::string_view config_text) {
  std::string why;
  std::optional<json> parsed = parse_json_text(json_text, &why);
  if (!parsed) fail(fmt::format("not valid JSON ({})", why));
  json j = std::move(*parsed);
  if (!j.is_object()) fail("the top level is not a JSON object");
  if (!j.contains("model") || !j["model"].is_object()) fail("missing the \"model\" object");
  const json& model = j["model"];

  // --- model ---
  std::string type = type_of(model);
  if (type.empty() && model.contains("merges")) type = "BPE";  // old files omit the type
  if (type != "BPE")
    fail_unsupported(fmt::format("model type '{}' is not supported (supported: BPE)", type.empty() ? "(missing)" : type));
  if (!model.contains("vocab") || !model["vocab"].is_object()) fail("model.vocab is missing or not an object");
  const json& vocab = model["vocab"];
  vocab_.reserve(vocab.size());
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    const json& id = it.value();
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX)
      fail(fmt::format("model.vocab['{}'] is not a non-negative integer id below 2^31", short_text(it.key())));
    // Ids index a dense id -> token table: one far beyond the vocabulary's size (found by
    // fuzz/tokenizer_json: id 1111111111 in a 5-token vocab asked for 8.9 GB) is refused. Real
    // vocabularies number their tokens 0 .. n-1.
    if (id.get<int64_t>() >= static_cast<int64_t>(vocab.size()) + kMaxIdGap)
      fail(fmt::format("model.vocab['{}'] has id {}, beyond the vocabulary's {} entries by more than {} (ids must be dense)",
                       short_text(it.key()), id.get<int64_t>(), vocab.size(), kMaxIdGap));
    const auto [pos, inserted] = vocab_.emplace(it.key(), id.get<int64_t>());
    const auto index = static_cast<size_t>(pos->second);
    if (index >= id_to_token_.size()) id_to_token_.resize(std::max(index + 1, 2 * id_to_token_.size()), nullptr);
    id_to_token_[index] = &pos->first;
  }
  if (model.contains("dropout") && !model["dropout"].is_null() &&
      !(model["dropout"].is_number() && model["dropout"].get<double>() == 0.0))
    fail_unsupported("model.dropout is set: BPE dropout is not supported");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (model.contains(key) && !model[key].is_null() && !(model[key].is_string() && model[key].get<std::string>().empty()))
      fail_unsupported(fmt::format("model.{} is not supported", key));
  }
  auto flag = [&](const json& obj, const char* key, bool dflt) {
    if (!obj.contains(key) || obj[key].is_null()) return dflt;
    if (!obj[key].is_boolean()) fail(fmt::format("'{}' is not a boolean", key));
    return obj[key].get<bool>();
  };
  // A {"String": ...} pattern (Replace, Split); regexes only where named patterns are known.
  auto literal_pattern = [&](const json& obj, const std::string& what) {
    const json& pat = obj.contains("pattern") ? obj["pattern"] : json();
    if (pat.is_object() && pat.contains("String") && pat["String"].is_string() &&
        !pat["String"].get<std::string>().empty())
      return pat["String"].get<std::string>();
    if (pat.is_object() && pat.contains("Regex"))
      fail_unsupported(fmt::format("{}: regex patterns are not supported (only {{\"String\": ...}})", what));
    fail(fmt::format("{}: 'pattern' is not {{\"String\": <non-empty text>}}", what));
  };
  // Metaspace (pre-tokenizer and decoder): the replacement character and when it is prepended.
  // Files older than prepend_scheme say add_prefix_space (false: never).
  auto metaspace_replacement = [&](const json& obj) {
    if (!obj.contains("replacement") || !obj["replacement"].is_string() ||
        unicode::decode_utf8(obj["replacement"].get<std::string>()).size() != 1)
      fail("Metaspace: 'replacement' must be one character");
    return obj["replacement"].get<std::string>();
  };
  auto metaspace_prepend = [&](const json& obj) {
    if (obj.contains("prepend_scheme") && !obj["prepend_scheme"].is_null()) {
      const std::string scheme = obj["prepend_scheme"].is_string() ? obj["prepend_scheme"].get<std::string>() : "";
      if (scheme == "always") return PreStep::kAlways;
      if (scheme == "first") return PreStep::kFirst;
      if (scheme == "never") return PreStep::kNever;
      fail(fmt::format("Metaspace: prepend_scheme '{}' is not always, first or never", scheme));
    }
    return flag(obj, "add_prefix_space", true) ? PreStep::kAlways : PreStep::kNever;
  };
  fuse_unk_ = flag(model, "fuse_unk", false);
  byte_fallback_ = flag(model, "byte_fallback", false);
  for (int b = 0; b < 256; ++b) {
    const auto it = vocab_.find(fmt::format("<0x{:02X}>", b));  // HF: format!("<{b:#04X}>")
    byte_ids_[b] = it == vocab_.end() ? -1 : it->second;
  }
  ignore_merges_ = flag(model, "ignore_merges", false);
  if (model.contains("unk_token") && !model["unk_token"].is_null()) {
    if (!model["unk_token"].is_string()) fail("model.unk_token is not a string");
    auto it = vocab_.find(model["unk_token"].get<std::string>());
    if (it == vocab_.end()) fail(fmt::format("model.unk_token '{}' is not in the vocab", model["unk_token"].get<std::string>()));
    unk_id_ = it->second;
  }
  if (!model.contains("merges") || !model["merges"].is_array()) fail("model.merges is missing or not an array");
  merges_.reserve(model["merges"].size());
  int32_t rank = 0;
  std::string joined;
  for (const json& m : model["merges"]) {
    std::string_view a, b;
    if (m.is_string()) {  // "a b"
      const std::string& s = m.get_ref<const std::string&>();
      const size_t sp = s.find(' ');
      if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
        fail(fmt::format("merge #{} '{}' is not two tokens separated by one space", rank, short_text(s)));
      a = std::string_view(s).substr(0, sp), b = std::string_view(s).substr(sp + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {  // ["a", "b"]
      a = m[0].get_ref<const std::string&>(), b = m[1].get_ref<const std::string&>();
    } else {
      fail(fmt::format("merge #{} is neither \"a b\" nor [\"a\", \"b\"]", rank));
    }
    const auto left = vocab_.find(a), right = vocab_.find(b);
    for (const auto& [part, it] : {std::pair{a, left}, std::pair{b, right}}) {
      if (it == vocab_.end())
        fail(fmt::format("merge #{} ('{}', '{}') references token '{}' that is not in the vocab", rank, short_text(a),
                         short_text(b), short_text(part)));
    }
    joined.assign(a).append(b);
    const auto merged = vocab_.find(joined);
    if (merged == vocab_.end())
      fail(fmt::format("merge #{} ('{}', '{}'): the merged token '{}' is not in the vocab", rank, short_text(a),
                       short_text(b), short_text(joined)));
    merges_.set(static_cast<int32_t>(left->second), static_cast<int32_t>(right->second),
                {rank, static_cast<int32_t>(merged->second)});  // a repeated pair keeps its last rank, as in HF
    ++rank;
  }

  // --- added tokens (matched after the normalizer is known) ---
  if (j.contains("added_tokens") && !j["added_tokens"].is_null()) {
    if (!j["added_tokens"].is_array()) fail("added_tokens is not an array");
    for (const json& t : j["added_tokens"]) {
      if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() || !t.contains("content") ||
          !t["content"].is_string() || t["content"].get<std::string>().empty())
        fail(fmt::format("added_tokens entry #{} needs an integer 'id' and a non-empty 'content'", added_.size()));
      // Ids are u32 in HF tokenizers (AddedToken's id); a negative one came out of encode() as is.
      const json& id = t["id"];
      if (id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX)
        fail(fmt::format("added_tokens entry #{}: id {} is not a non-negative integer below 2^31", added_.size(),
                         id.dump()));
      AddedToken a;
      a.content = t["content"].get<std::string>();
      // HF takes the id of a content the vocab has from the vocab (tokenizer/serialization.rs).
      const auto in_vocab = vocab_.find(a.content);
      a.id = in_vocab != vocab_.end() ? in_vocab->second : t["id"].get<int64_t>();
      a.special = flag(t, "special", false);
      a.normalized = flag(t, "normalized", !a.special);
      a.lstrip = flag(t, "lstrip", false);
      a.rstrip = flag(t, "rstrip", false);
      a.single_word = flag(t, "single_word", false);
      added_by_id_[a.id] = added_.size();
      added_.push_back(std::move(a));
    }
  }

  // --- normalizer ---
  std::function<void(const json&)> normalizer = [&](const json& n) {
    if (n.is_null()) return;
    const std::string t = type_of(n);
    bpe::NormalizerStep step;
    if (t == "NFC") {
      step.kind = bpe::NormalizerStep::kNfc;
    } else if (t == "Prepend" && n.contains("prepend") && n["prepend"].is_string()) {
      step.kind = bpe::NormalizerStep::kPrepend;
      step.text = n["prepend"].get<std::string>();
    } else if (t == "Replace") {
      step.kind = bpe::NormalizerStep::kReplace;
      step.text = literal_pattern(n, "normalizer Replace");
      if (!n.contains("content") || !n["content"].is_string()) fail("normalizer Replace has no 'content' string");
      step.content = n["content"].get<std::string>();
    } else if (t == "Sequence" && n.contains("normalizers") && n["normalizers"].is_array()) {
      for (const json& sub : n["normalizers"]) normalizer(sub);
      return;
    } else {
      fail_unsupported(fmt::format("normalizer '{}' is not supported (supported: NFC, Prepend, Replace, Sequence)",
                                   t.empty() ? "(untyped)" : t));
    }
    normalizer_.push_back(std::move(step));
  };
  if (j.contains("normalizer")) normalizer(j["normalizer"]);

  // HF matches a normalized added token by its normalized content, and decodes it as that too.
  added_decoded_.clear();
  for (const AddedToken& a : added_) {
    const std::string pattern = a.normalized ? bpe::normalize(normalizer_, a.content) : a.content;
    (a.normalized ? normalized_matcher_ : raw_matcher_).add(pattern, &a);
    added_decoded_.push_back(pattern);
  }

  // --- pre-tokenizer ---
  std::function<void(const json&)> pre = [&](const json& p) {
    const std::string t = type_of(p);
    PreStep s;
    if (t == "Sequence" && p.contains("pretokenizers") && p["pretokenizers"].is_array()) {
      for (const json& sub : p["pretokenizers"]) pre(sub);
      return;
    } else if (t == "Split") {
      const json& pat = p.contains("pattern") ? p["pattern"] : json();
      const std::string behavior = p.value("behavior", std::string());
      if (flag(p, "invert", false)) fail_unsupported("pre_tokenizer Split with invert is not supported");
      if (pat.is_object() && pat.contains("Regex") && pat["Regex"].is_string()) {
        const std::string regex = pat["Regex"].get<std::string>();
        auto known = bpe::recognize_pattern(regex);
        if (!known)
          fail_unsupported(fmt::format(
              "pre_tokenizer Split regex '{}' is not one of the supported patterns (GPT-2, Llama-3, Qwen2)",
              short_text(regex)));
        if (behavior != "Isolated")
          fail_unsupported(fmt::format("pre_tokenizer Split: behavior '{}' is supported for String patterns only", behavior));
        s.pattern = *known;
      } else {
        s.kind = PreStep::kSplitLiteral;
        s.literal = literal_pattern(p, "pre_tokenizer Split");
        static const std::pair<const char*, bpe::SplitBehavior> kBehaviors[] = {
            {"Removed", bpe::SplitBehavior::kRemoved},
            {"Isolated", bpe::SplitBehavior::kIsolated},
            {"MergedWithPrevious", bpe::SplitBehavior::kMergedWithPrevious},
            {"MergedWithNext", bpe::SplitBehavior::kMergedWithNext},
            {"Contiguous", bpe::SplitBehavior::kContiguous}};
        bool found = false;
        for (const auto& [name, value] : kBehaviors) {
          if (behavior == name) s.behavior = value, found = true;
        }
        if (!found) fail(fmt::format("pre_tokenizer Split: unknown behavior '{}'", behavior));
      }
    } else if (t == "ByteLevel") {
      s.kind = PreStep::kByteLevel;
      s.add_prefix_space = flag(p, "add_prefix_space", true);  // HF's defaults
      s.use_regex = flag(p, "use_regex", true);
    } else if (t == "Metaspace") {
      s.kind = PreStep::kMetaspace;
      s.literal = metaspace_replacement(p);
      s.prepend = metaspace_prepend(p);
      s.split = flag(p, "split", true);
    } else {
      fail_unsupported(fmt::format("pre_tokenizer '{}' is not supported (supported: ByteLevel, Metaspace, Split, Sequence)",
                                   t.empty() ? "(untyped)" : t));
    }
    pre_steps_.push_back(std::move(s));
  };
  if (j.contains("pre_tokenizer") && !j["pre_tokenizer"].is_null()) pre(j["pre_tokenizer"]);

  // --- decoder ---
  std::function<void(const json&)> decoder = [&](const json& d) {
    if (d.is_null()) return;
    const std::string t = type_of(d);
    bpe::DecoderStep step;
    if (t == "Sequence" && d.contains("decoders") && d["decoders"].is_array()) {
      for (const json& sub : d["decoders"]) decoder(sub);
      return;
    } else if (t == "ByteLevel") {
      step.kind = bpe::DecoderStep::kByteLevel;
    } else if (t == "ByteFallback") {
      step.kind = bpe::DecoderStep::kByteFallback;
    } else if (t == "Fuse") {
      step.kind = bpe::DecoderStep::kFuse;
    } else if (t == "Replace") {
      step.kind = bpe::DecoderStep::kReplace;
      step.pattern = literal_pattern(d, "decoder Replace");
      if (!d.contains("content") || !d["content"].is_string()) fail("decoder Replace has no 'content' string");
      step.content = d["content"].get<std::string>();
    } else if (t == "Strip") {
      step.kind = bpe::DecoderStep::kStrip;
      if (!d.contains("content") || !d["content"].is_string() || unicode::decode_utf8(d["content"].get<std::string>()).size() != 1)
        fail("decoder Strip: 'content' must be one character");
      step.pattern = d["content"].get<std::string>();
      for (auto [key, field] : {std::pair{"start", &step.start}, std::pair{"stop", &step.stop}}) {
        if (!d.contains(key) || !d[key].is_number_unsigned())
          fail(fmt::format("decoder Strip: '{}' must be a non-negative integer", key));
        *field = d[key].get<size_t>();
      }
    } else if (t == "Metaspace") {
      step.kind = bpe::DecoderStep::kMetaspace;
      step.pattern = metaspace_replacement(d);
      step.prepend_never = metaspace_prepend(d) == PreStep::kNever;
    } else {
      fail_unsupported(fmt::format(
          "decoder '{}' is not supported (supported: ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence)",
          t.empty() ? "(untyped)" : t));
    }
    decoder_.push_back(std::move(step));
  };
  if (j.contains("decoder")) decoder(j["decoder"]);

  // --- post-processor: TemplateProcessing's special tokens around $A ---
  std::function<void(const json&)> post = [&](const json& p) {
    if (p.is_null()) return;
    const std::string t = type_of(p);
    if (t == "ByteLevel") return;  // offsets only
    if (t == "Sequence" && p.contains("processors") && p["processors"].is_array()) {
      for (const json& sub : p["processors"]) post(sub);
      return;
    }
    if (t != "TemplateProcessing")
      fail_unsupported(fmt::format("post_processor '{}' is not supported (supported: TemplateProcessing, ByteLevel)", t));
    if (!p.contains("single") || !p["single"].is_array()) fail("post_processor TemplateProcessing has no 'single' list");
    template_prefix_.clear(), template_suffix_.clear();
    bool seen_sequence = false;
    for (const json& item : p["single"]) {
      if (item.contains("Sequence")) {
        seen_sequence = true;
        continue;
      }
      if (!item.contains("SpecialToken") || !item["SpecialToken"].contains("id"))
        fail("post_processor TemplateProcessing: an item is neither Sequence nor SpecialToken");
      const std::string name = item["SpecialToken"]["id"].get<std::string>();
      const json& specials = p.contains("special_tokens") ? p["special_tokens"] : json::object();
      if (!specials.contains(name) || !specials[name].contains("ids") || !specials[name]["ids"].is_array())
        fail(fmt::format("post_processor TemplateProcessing: special token '{}' has no ids", name));
      for (const json& id : specials[name]["ids"]) (seen_sequence ? template_suffix_ : template_prefix_).push_back(id.get<int64_t>());
    }
  };
  if (j.contains("post_processor")) post(j["post_processor"]);

  // --- tokenizer_config.json ---
  if (!config_text.empty()) {
    const std::string saved_origin = origin_;
    origin_ = origin_ + " (tokenizer_config.json)";
    std::string why;
    std::optional<json> parsed = parse_json_text(config_text, &why);
    if (!parsed) fail(fmt::format("not valid JSON ({})", why));
    json c = std::move(*parsed);
    if (!c.is_object()) fail("the top level is not a JSON object");
    if (c.contains("add_bos_token") && !c["add_bos_token"].is_null()) add_bos_token_ = flag(c, "add_bos_token", false);
    auto resolve = [&](const char* key) -> std::optional<int64_t> {
      if (!c.contains(key) || c[key].is_null()) return std::nullopt;
      auto content = token_content(c[key]);
      if (!content) fail(fmt::format("'{}' is neither a string nor {{\"content\": ...}}", key));
      auto id = token_to_id(*content);
      if (!id) fail(fmt::format("{} '{}' is not a token of tokenizer.json", key, *content));
      return id;
    };
    bos_id_ = resolve("bos_token");
    eos_id_ = resolve("eos_token");
    origin_ = saved_origin;
  }
  if (!template_prefix_.empty()) bos_id_ = template_prefix_.front();

  vocab_size_ = 0;
  for (size_t id = 0; id < id_to_token_.size(); ++id) {
    if (id_to_token_[id]) vocab_size_ = static_cast<int64_t>(id) + 1;
  }
  for (const AddedToken& a : added_) vocab_size_ = std::max(vocab_size_, a.id + 1);
  find_word_starts();
}

}  // namespace repro
