#pragma once
// Zero-shot multiple-choice tasks, built exactly as lm-evaluation-harness v0.4.x builds them
// (task yaml doc_to_text / doc_to_choice / doc_to_target, target_delimiter " ", no few-shot), from a
// local JSON-lines export of the Hugging Face split lm-eval evaluates:
//
//   task           HF dataset (config)            split       fields read
//   piqa           piqa (0.4.9+: baber/piqa)      validation  goal, sol1, sol2, label
//   arc_easy       allenai/ai2_arc (ARC-Easy)     test        question, choices{text,label}, answerKey
//   arc_challenge  allenai/ai2_arc (ARC-Challenge) test       question, choices{text,label}, answerKey
//   hellaswag      Rowan/hellaswag                validation  activity_label, ctx_a, ctx_b, endings, label
//   winogrande     winogrande (winogrande_xl)     validation  sentence, option1, option2, answer
//   boolq          super_glue (boolq)             validation  passage, question, label
//   rte            nyu-mll/glue (rte)             validation  sentence1, sentence2, label
//   openbookqa     openbookqa (main)              test        question_stem, choices{text,label}, answerKey
//
// Export once on a machine with the `datasets` package, e.g.
//   load_dataset("baber/piqa", split="validation").to_json("piqa.validation.jsonl")
// and place the files as <data_dir>/zeroshot/<task>.<split>.jsonl (mc_task_file).
//
// A request asks for log P(continuation_i | context_i) for every choice i. Most tasks share one
// context and vary the continuation (" " + choice); winogrande is lm-eval's "partial evaluation":
// the context varies per choice (sentence up to the blank + option) and the continuation (the rest
// of the sentence) is shared.

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "models/tokenizer.h"

namespace repro {

struct McRequest {
  std::vector<std::string> contexts;       // 1 (shared by all choices) or num_choices()
  std::vector<std::string> continuations;  // 1 (shared) or num_choices()
  // lm-eval's doc_to_choice strings (no delimiter): acc_norm divides by their length. For
  // winogrande these are the per-choice contexts.
  std::vector<std::string> choices;
  int gold = -1;  // index into choices

  size_t num_choices() const { return choices.size(); }
  const std::string& context(size_t i) const { return contexts.size() == 1 ? contexts[0] : contexts.at(i); }
  const std::string& continuation(size_t i) const {
    return continuations.size() == 1 ? continuations[0] : continuations.at(i);
  }
  bool shared_context() const { return contexts.size() == 1; }
};

struct McTaskInfo {
  std::string name;        // "arc_easy"
  std::string hf_dataset;  // "allenai/ai2_arc (ARC-Easy)"
  std::string split;       // the split lm-eval evaluates: "test"
  std::string fields;      // the JSON fields read, for messages
  std::string metric;      // what the papers report: "acc_norm" or "acc"
};

// piqa, arc_easy, arc_challenge, hellaswag, winogrande, boolq, rte, openbookqa.
std::vector<std::string> mc_task_names();
// Unknown task -> ConfigError (with a did-you-mean).
const McTaskInfo& mc_task_info(const std::string& task);

// <data_dir>/zeroshot/<task>.<split>.jsonl
std::filesystem::path mc_task_file(const std::filesystem::path& data_dir, const std::string& task);

// Reads every document of a JSON-lines export (plain or .gz) in file order; `limit` > 0 keeps the
// first `limit`. Missing file -> DataError saying how to export it; malformed line, missing or
// ill-typed field, gold label out of range -> DataError "<file>:<line>: ...".
std::vector<McRequest> load_mc_task(const std::string& task, const std::filesystem::path& jsonl, size_t limit = 0);

// One document given as a JSON object text (for tests and tools); errors name `where`.
McRequest mc_request_from_json(const std::string& task, std::string_view json_object,
                               const std::string& where = "<document>");

// lm-eval's tokenization of a (context, continuation) pair for causal LMs (TemplateLM._encode_pair):
// trailing whitespace of the context moves to the continuation; the pair is encoded whole and the
// continuation's ids are those after the context's own encoding. An empty context becomes the
// BOS id (else EOS) and the continuation is encoded alone, without BOS. `add_bos`: lm-eval up to
// 0.4.9.1 encodes without special tokens for causal models (unless add_bos_token=True); 0.4.9.2 and
// later use the tokenizer's default (Llama: BOS). datasets/README.md lists what was checked.
std::pair<std::vector<int64_t>, std::vector<int64_t>> encode_mc_pair(const Tokenizer& tokenizer,
                                                                     std::string_view context,
                                                                     std::string_view continuation, bool add_bos);

}  // namespace repro
