// Zero-shot tasks: the contexts and continuations lm-evaluation-harness v0.4.x builds, written by
// hand from the task yaml files (doc_to_text, doc_to_choice, target_delimiter " ").

#include <string>

#include "core/error.h"
#include "datasets/zero_shot.h"
#include "tests/catch.h"
#include "tests/datasets/byte_tokenizer.h"
#include "tests/test_util.h"

namespace {

using Strings = std::vector<std::string>;

repro::McRequest one(const std::string& task, const std::string& json) {
  return repro::mc_request_from_json(task, json);
}

void check_shared(const repro::McRequest& r, const std::string& context, const Strings& choices, int gold) {
  CHECK(r.shared_context());
  CHECK(r.contexts == Strings{context});
  CHECK(r.choices == choices);
  REQUIRE(r.num_choices() == choices.size());
  for (size_t i = 0; i < choices.size(); ++i) {
    CHECK(r.context(i) == context);
    CHECK(r.continuation(i) == " " + choices[i]);
  }
  CHECK(r.gold == gold);
}

}  // namespace

TEST_CASE("piqa: Question/Answer template, two solutions", "[datasets]") {
  auto r = one("piqa",
               R"({"goal": "How do I ready a guinea pig cage for it's new occupants?",
                   "sol1": "Provide the guinea pig with a cage full of a few inches of bedding made of ripped paper strips.",
                   "sol2": "Provide the guinea pig with a cage full of a few inches of bedding made of ripped jeans material.",
                   "label": 0})");
  check_shared(r, "Question: How do I ready a guinea pig cage for it's new occupants?\nAnswer:",
               {"Provide the guinea pig with a cage full of a few inches of bedding made of ripped paper strips.",
                "Provide the guinea pig with a cage full of a few inches of bedding made of ripped jeans material."},
               0);
  CHECK(r.continuation(1) ==
        " Provide the guinea pig with a cage full of a few inches of bedding made of ripped jeans material.");
  CHECK(one("piqa", R"({"goal": "g", "sol1": "a", "sol2": "b", "label": 1})").gold == 1);
}

TEST_CASE("arc_easy / arc_challenge: gold is answerKey's position in choices.label", "[datasets]") {
  const char* doc = R"({"id": "Mercury_7175875",
      "question": "An astronomer observes that a planet rotates faster after a meteorite impact. Which is the most likely effect of this increase in rotation?",
      "choices": {"text": ["Planetary density will decrease.", "Planetary years will become longer.",
                           "Planetary days will become shorter.", "Planetary gravity will become stronger."],
                  "label": ["A", "B", "C", "D"]},
      "answerKey": "C"})";
  for (const char* task : {"arc_easy", "arc_challenge"}) {
    check_shared(one(task, doc),
                 "Question: An astronomer observes that a planet rotates faster after a meteorite impact. Which is "
                 "the most likely effect of this increase in rotation?\nAnswer:",
                 {"Planetary density will decrease.", "Planetary years will become longer.",
                  "Planetary days will become shorter.", "Planetary gravity will become stronger."},
                 2);
  }
  // Some ARC questions are numbered 1-4 and have three or five choices.
  auto r = one("arc_challenge",
               R"({"question": "Q?", "choices": {"text": ["x", "y", "z"], "label": ["1", "2", "3"]}, "answerKey": "3"})");
  CHECK(r.gold == 2);
  CHECK(r.num_choices() == 3);
  CHECK_THROWS_AS(one("arc_easy", R"({"question": "Q?", "choices": {"text": ["x"], "label": ["A"]}, "answerKey": "B"})"),
                  repro::DataError);
}

TEST_CASE("hellaswag: preprocess of query and endings", "[datasets]") {
  check_shared(one("hellaswag", R"({"ind": 24, "activity_label": "Roof shingle removal",
                                   "ctx_a": "A man is sitting on a roof.", "ctx_b": "he",
                                   "endings": ["is using wrap to wrap a pair of skis.", "is ripping level tiles off.",
                                               "is holding a rubik's cube.", "starts pulling up roofing on a roof."],
                                   "label": "3"})"),
               "Roof shingle removal: A man is sitting on a roof. He",
               {"is using wrap to wrap a pair of skis.", "is ripping level tiles off.", "is holding a rubik's cube.",
                "starts pulling up roofing on a roof."},
               3);
  // WikiHow artifacts: " [title]" -> ". ", "[...]" dropped, one pass of "  " -> " "; ctx_b is
  // capitalize()d (first letter up, the rest down); endings are stripped before the brackets go,
  // so "[step] Water daily." keeps a leading space.
  auto r = one("hellaswag", R"({"activity_label": "Home and Garden",
                              "ctx_a": "[header] How to grow tomatoes [title] Pick a sunny spot.",
                              "ctx_b": "MAKE sure  the soil drains well.",
                              "endings": ["[step] Water daily.  ", " Dig a hole [substeps] twice as deep."],
                              "label": 1})");
  check_shared(r, "Home and Garden: How to grow tomatoes. Pick a sunny spot. Make sure the soil drains well.",
               {" Water daily.", "Dig a hole twice as deep."}, 1);
  CHECK(r.continuation(0) == "  Water daily.");
}

TEST_CASE("winogrande: per-choice contexts, shared continuation", "[datasets]") {
  auto r = one("winogrande", R"({"sentence": "Sarah was a much better surgeon than Maria so _ always got the harder cases.",
                               "option1": "Sarah", "option2": "Maria", "answer": "1"})");
  CHECK_FALSE(r.shared_context());
  CHECK(r.contexts == Strings{"Sarah was a much better surgeon than Maria so Sarah",
                              "Sarah was a much better surgeon than Maria so Maria"});
  CHECK(r.continuations == Strings{" always got the harder cases."});
  CHECK(r.continuation(0) == " always got the harder cases.");
  CHECK(r.continuation(1) == " always got the harder cases.");
  CHECK(r.choices == r.contexts);  // lm-eval's doc_to_choice (acc_norm lengths)
  CHECK(r.gold == 0);
  auto r2 = one("winogrande", R"({"sentence": "The trophy doesn't fit into the suitcase because the _ is too small.",
                                "option1": "trophy", "option2": "suitcase", "answer": "2"})");
  CHECK(r2.context(1) == "The trophy doesn't fit into the suitcase because the suitcase");
  CHECK(r2.continuation(1) == " is too small.");
  CHECK(r2.gold == 1);
  CHECK_THROWS_AS(one("winogrande", R"({"sentence": "no blank", "option1": "a", "option2": "b", "answer": "1"})"),
                  repro::DataError);
}

TEST_CASE("boolq and rte: passage/question templates with fixed choices", "[datasets]") {
  check_shared(one("boolq", R"({"question": "is windows movie maker part of windows essentials",
                               "passage": "Windows Movie Maker -- Windows Movie Maker is a discontinued video editing software by Microsoft.",
                               "idx": 0, "label": 1})"),
               "Windows Movie Maker -- Windows Movie Maker is a discontinued video editing software by Microsoft.\n"
               "Question: is windows movie maker part of windows essentials?\nAnswer:",
               {"no", "yes"}, 1);
  check_shared(one("rte", R"({"sentence1": "No Weapons of Mass Destruction Found in Iraq Yet.",
                             "sentence2": "Weapons of Mass Destruction Found in Iraq.", "label": 1, "idx": 0})"),
               "No Weapons of Mass Destruction Found in Iraq Yet.\nQuestion: Weapons of Mass Destruction Found in "
               "Iraq. True or False?\nAnswer:",
               {"True", "False"}, 1);
}

TEST_CASE("openbookqa: bare question stem, answerKey left-stripped", "[datasets]") {
  check_shared(one("openbookqa", R"({"id": "7-980", "question_stem": "The sun is responsible for",
                                    "choices": {"text": ["puppies learning new tricks", "children growing up and getting old",
                                                         "flowers wilting in a vase", "plants sprouting, blooming and wilting"],
                                                "label": ["A", "B", "C", "D"]},
                                    "answerKey": "D"})"),
               "The sun is responsible for",
               {"puppies learning new tricks", "children growing up and getting old", "flowers wilting in a vase",
                "plants sprouting, blooming and wilting"},
               3);
  CHECK(one("openbookqa", R"({"question_stem": "q", "choices": {"text": ["a", "b"], "label": ["A", "B"]}, "answerKey": " B"})")
            .gold == 1);
}

TEST_CASE("zero-shot files: loading, limits, errors with file:line", "[datasets]") {
  repro::test::TempDir dir("zeroshot");
  auto file = repro::mc_task_file(dir.path(), "piqa");
  CHECK(file == dir / "zeroshot" / "piqa.validation.jsonl");
  CHECK(repro::mc_task_file(dir.path(), "arc_easy").filename() == "arc_easy.test.jsonl");

  std::string msg;
  try {
    repro::load_mc_task("piqa", file);
  } catch (const repro::DataError& e) {
    msg = e.what();
  }
  CHECK(msg.find(file.string() + ": file not found") == 0);
  CHECK(msg.find("goal, sol1, sol2, label") != std::string::npos);

  repro::test::write_text(file, "{\"goal\": \"g1\", \"sol1\": \"a\", \"sol2\": \"b\", \"label\": 0}\n"
                                "{\"goal\": \"g2\", \"sol1\": \"a\", \"sol2\": \"b\", \"label\": 1}\n");
  auto all = repro::load_mc_task("piqa", file);
  REQUIRE(all.size() == 2);
  CHECK(all[1].context(0) == "Question: g2\nAnswer:");
  CHECK(repro::load_mc_task("piqa", file, 1).size() == 1);

  repro::test::write_text(file, "{\"goal\": \"g1\", \"sol1\": \"a\", \"sol2\": \"b\", \"label\": 0}\n"
                                "{\"goal\": \"g2\", \"sol1\": \"a\", \"label\": 1}\n");
  try {
    repro::load_mc_task("piqa", file);
    FAIL("no DataError");
  } catch (const repro::DataError& e) {
    CHECK(std::string(e.what()) == file.string() + ":2: missing field \"sol2\"");
  }
  repro::test::write_text(file, "{\"goal\": \"g1\", \"sol1\": \"a\", \"sol2\": \"b\", \"label\": -1}\n");
  CHECK_THROWS_AS(repro::load_mc_task("piqa", file), repro::DataError);
  CHECK_THROWS_AS(repro::mc_task_info("hellaswg"), repro::ConfigError);
}

TEST_CASE("encode_mc_pair moves the context's trailing space to the continuation", "[datasets]") {
  repro::test::ByteTokenizer tok;
  auto [ctx, cont] = repro::encode_mc_pair(tok, "Answer: ", "yes", true);
  CHECK(ctx == std::vector<int64_t>{256, 'A', 'n', 's', 'w', 'e', 'r', ':'});
  CHECK(cont == std::vector<int64_t>{' ', 'y', 'e', 's'});
  auto [ctx2, cont2] = repro::encode_mc_pair(tok, "", " x", true);
  CHECK(ctx2 == std::vector<int64_t>{repro::test::ByteTokenizer::kBos});
  CHECK(cont2 == std::vector<int64_t>{' ', 'x'});
}
