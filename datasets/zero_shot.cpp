#include "datasets/zero_shot.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_text.h"
#include "core/strings.h"
#include "datasets/detail/py_text.h"
#include "datasets/json_lines.h"

namespace repro {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::vector<McTaskInfo>& all_tasks() {
  static const std::vector<McTaskInfo> tasks = {
      {"piqa", "piqa (lm-eval 0.4.9+: baber/piqa)", "validation", "goal, sol1, sol2, label", "acc_norm"},
      {"arc_easy", "allenai/ai2_arc (ARC-Easy)", "test", "question, choices{text,label}, answerKey", "acc_norm"},
      {"arc_challenge", "allenai/ai2_arc (ARC-Challenge)", "test", "question, choices{text,label}, answerKey",
       "acc_norm"},
      {"hellaswag", "Rowan/hellaswag", "validation", "activity_label, ctx_a, ctx_b, endings, label", "acc_norm"},
      {"winogrande", "winogrande (winogrande_xl)", "validation", "sentence, option1, option2, answer", "acc"},
      {"boolq", "super_glue (boolq)", "validation", "passage, question, label", "acc"},
      {"rte", "nyu-mll/glue (rte)", "validation", "sentence1, sentence2, label", "acc"},
      {"openbookqa", "openbookqa (main)", "test", "question_stem, choices{text,label}, answerKey", "acc_norm"},
  };
  return tasks;
}

// Field access with errors that name the document and the field.
struct Doc {
  const json& j;
  const std::string& where;

  [[noreturn]] void fail(const std::string& what) const { throw DataError(fmt::format("{}: {}", where, what)); }

  const json& field(const char* name) const {
    auto it = j.find(name);
    if (it == j.end()) fail(fmt::format("missing field \"{}\"", name));
    return *it;
  }
  std::string str(const char* name) const {
    const json& v = field(name);
    if (!v.is_string()) fail(fmt::format("field \"{}\" should be a string, not {}", name, v.type_name()));
    return v.get<std::string>();
  }
  std::vector<std::string> str_list(const json& v, const std::string& name) const {
    if (!v.is_array()) fail(fmt::format("field \"{}\" should be a list of strings", name));
    std::vector<std::string> out;
    for (const auto& e : v) {
      if (!e.is_string()) fail(fmt::format("field \"{}\" should be a list of strings", name));
      out.push_back(e.get<std::string>());
    }
    return out;
  }
  // An integer label given as a number, a bool or a string of digits (HF exports both).
  int64_t label(const char* name) const {
    const json& v = field(name);
    if (v.is_number_integer()) return v.get<int64_t>();
    if (v.is_boolean()) return v.get<bool>() ? 1 : 0;
    if (v.is_string()) {
      std::string s = v.get<std::string>();
      if (!s.empty() && s.size() < 10 && s.find_first_not_of("0123456789") == std::string::npos) return std::stoll(s);
    }
    fail(fmt::format("field \"{}\" should be an integer label, not {}", name, v.dump()));
  }
};

McRequest shared_context(std::string context, std::vector<std::string> choices, int64_t gold, const Doc& doc) {
  if (gold < 0 || gold >= static_cast<int64_t>(choices.size()))
    doc.fail(fmt::format("gold label {} is out of range for {} choices (a split without labels?)", gold,
                         choices.size()));
  McRequest r;
  r.contexts = {std::move(context)};
  for (const auto& c : choices) r.continuations.push_back(fmt::format(" {}", c));  // target_delimiter " "
  r.choices = std::move(choices);
  r.gold = static_cast<int>(gold);
  return r;
}

// arc / openbookqa: the gold index is the position of answerKey among choices.label.
McRequest lettered(std::string context, const Doc& doc, bool lstrip_key) {
  const json& choices = doc.field("choices");
  if (!choices.is_object()) doc.fail("field \"choices\" should be an object {\"text\": [...], \"label\": [...]}");
  auto text_it = choices.find("text"), label_it = choices.find("label");
  if (text_it == choices.end() || label_it == choices.end())
    doc.fail("field \"choices\" should have \"text\" and \"label\" lists");
  std::vector<std::string> texts = doc.str_list(*text_it, "choices.text");
  std::vector<std::string> labels = doc.str_list(*label_it, "choices.label");
  std::string key = doc.str("answerKey");
  if (lstrip_key) key = std::string(detail::py_lstrip(key));
  int64_t gold = -1;
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i] == key) {
      gold = static_cast<int64_t>(i);
      break;
    }
  if (gold < 0) doc.fail(fmt::format("answerKey \"{}\" is not among choices.label", key));
  if (texts.size() != labels.size()) doc.fail("choices.text and choices.label differ in length");
  return shared_context(std::move(context), std::move(texts), gold, doc);
}

// lm_eval/tasks/hellaswag/utils.py preprocess(): strip, " [title]" -> ". ", drop "[...]" (non-greedy,
// within a line), then one pass of "  " -> " ".
std::string hellaswag_preprocess(std::string_view raw) {
  std::string text(detail::py_strip(raw));
  std::string step;
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, 8, " [title]") == 0) {
      step += ". ";
      i += 8;
    } else {
      step += text[i++];
    }
  }
  text.clear();
  for (size_t i = 0; i < step.size();) {
    if (step[i] == '[') {
      size_t close = step.find_first_of("]\n", i + 1);
      if (close != std::string::npos && step[close] == ']') {
        i = close + 1;
        continue;
      }
    }
    text += step[i++];
  }
  step.clear();
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, 2, "  ") == 0) {
      step += ' ';
      i += 2;
    } else {
      step += text[i++];
    }
  }
  return step;
}

McRequest build(const std::string& task, const Doc& doc) {
  if (task == "piqa")
    return shared_context(fmt::format("Question: {}\nAnswer:", doc.str("goal")), {doc.str("sol1"), doc.str("sol2")},
                          doc.label("label"), doc);
  if (task == "arc_easy" || task == "arc_challenge")
    return lettered(fmt::format("Question: {}\nAnswer:", doc.str("question")), doc, false);
  if (task == "openbookqa") return lettered(doc.str("question_stem"), doc, true);
  if (task == "hellaswag") {
    std::string ctx = fmt::format("{} {}", doc.str("ctx_a"), detail::py_capitalize(doc.str("ctx_b")));
    std::vector<std::string> choices;
    for (const auto& e : doc.str_list(doc.field("endings"), "endings")) choices.push_back(hellaswag_preprocess(e));
    return shared_context(hellaswag_preprocess(fmt::format("{}: {}", doc.str("activity_label"), ctx)), std::move(choices),
                          doc.label("label"), doc);
  }
  if (task == "boolq")
    return shared_context(fmt::format("{}\nQuestion: {}?\nAnswer:", doc.str("passage"), doc.str("question")), {"no", "yes"},
                          doc.label("label"), doc);
  if (task == "rte")
    return shared_context(fmt::format("{}\nQuestion: {} True or False?\nAnswer:", doc.str("sentence1"), doc.str("sentence2")),
                          {"True", "False"}, doc.label("label"), doc);
  if (task == "winogrande") {
    // preprocess_winogrande.py: the context is the sentence up to the blank with the option filled
    // in; the continuation is the rest of the sentence, the same for both options.
    std::string sentence = doc.str("sentence");
    size_t blank = sentence.find('_');
    if (blank == std::string::npos) doc.fail("field \"sentence\" has no '_' blank");
    std::string prefix = sentence.substr(0, blank);
    McRequest r;
    r.choices = {prefix + doc.str("option1"), prefix + doc.str("option2")};
    r.contexts = r.choices;
    r.continuations = {fmt::format(" {}", detail::py_strip(std::string_view(sentence).substr(blank + 1)))};
    int64_t answer = doc.label("answer");  // "1" | "2"
    if (answer != 1 && answer != 2) doc.fail(fmt::format("field \"answer\" should be \"1\" or \"2\" (got {})", answer));
    r.gold = static_cast<int>(answer - 1);
    return r;
  }
  throw InternalError("zero-shot task '" + task + "' has no builder");
}

}  // namespace

std::vector<std::string> mc_task_names() {
  std::vector<std::string> out;
  for (const auto& t : all_tasks()) out.push_back(t.name);
  return out;
}

const McTaskInfo& mc_task_info(const std::string& task) {
  for (const auto& t : all_tasks())
    if (t.name == task) return t;
  auto names = mc_task_names();
  throw ConfigError(fmt::format("unknown zero-shot task '{}'{}; known: {}", task, did_you_mean(task, names),
                                join(names, ", ")));
}

fs::path mc_task_file(const fs::path& data_dir, const std::string& task) {
  const auto& info = mc_task_info(task);
  return data_dir / "zeroshot" / (info.name + "." + info.split + ".jsonl");
}

std::vector<McRequest> load_mc_task(const std::string& task, const fs::path& jsonl, size_t limit) {
  const auto& info = mc_task_info(task);
  std::error_code ec;
  if (!fs::is_regular_file(jsonl, ec))
    throw DataError(fmt::format(
        "{}: file not found (expected the {} split of the HF dataset {} as JSON lines with fields {}; export it "
        "with datasets.load_dataset(...).to_json(\"{}\"), see datasets/README.md)",
        jsonl.string(), info.split, info.hf_dataset, info.fields, jsonl.filename().string()));
  std::vector<McRequest> out;
  for_each_json_line(jsonl, [&](const json& record, size_t line) {
    std::string where = file_line(jsonl, line);
    if (!record.is_object()) throw DataError(where + ": expected a JSON object");
    out.push_back(build(info.name, Doc{record, where}));
    return limit == 0 || out.size() < limit;
  });
  return out;
}

McRequest mc_request_from_json(const std::string& task, std::string_view json_object, const std::string& where) {
  const auto& info = mc_task_info(task);
  std::string why;
  std::optional<json> parsed = parse_json_text(json_object, &why);
  if (!parsed) throw DataError(fmt::format("{}: not valid JSON ({})", where, why));
  json record = std::move(*parsed);
  if (!record.is_object()) throw DataError(where + ": expected a JSON object");
  return build(info.name, Doc{record, where});
}

std::pair<std::vector<int64_t>, std::vector<int64_t>> encode_mc_pair(const Tokenizer& tokenizer,
                                                                     std::string_view context,
                                                                     std::string_view continuation, bool add_bos) {
  if (context.empty()) {
    auto prefix = tokenizer.bos_id() ? tokenizer.bos_id() : tokenizer.eos_id();
    if (!prefix) throw NotSupported("scoring with an empty context needs a tokenizer with a BOS or EOS token");
    return {{*prefix}, tokenizer.encode(continuation, false)};
  }
  std::string_view kept = detail::py_rstrip(context);
  std::string cont = std::string(context.substr(kept.size())) + std::string(continuation);
  std::vector<int64_t> whole = tokenizer.encode(std::string(kept) + cont, add_bos);
  std::vector<int64_t> ctx = tokenizer.encode(kept, add_bos);
  size_t n = std::min(ctx.size(), whole.size());
  return {std::move(ctx), std::vector<int64_t>(whole.begin() + static_cast<std::ptrdiff_t>(n), whole.end())};
}

}  // namespace repro
