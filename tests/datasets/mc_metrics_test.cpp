// acc / acc_norm as lm-eval computes them, on log-likelihoods where the two disagree.

#include <cmath>
#include <limits>

#include "core/error.h"
#include "datasets/mc_metrics.h"
#include "tests/catch.h"

namespace {

repro::McRequest request(std::vector<std::string> choices, int gold) {
  repro::McRequest r;
  r.contexts = {"ctx"};
  for (const auto& c : choices) r.continuations.push_back(" " + c);
  r.choices = std::move(choices);
  r.gold = gold;
  return r;
}

}  // namespace

TEST_CASE("acc is argmax ll, acc_norm argmax ll / characters of the choice", "[datasets]") {
  // ll: -2 vs -5 -> acc picks 0; per character: -2/1 vs -5/10 -> acc_norm picks 1.
  auto r = request({"a", "bbbbbbbbbb"}, 1);
  auto p = repro::mc_predict(r, {-2.0, -5.0});
  CHECK(p.pred == 0);
  CHECK(p.pred_norm == 1);

  // Length is in characters (Python len), not bytes: "é" is one character (two bytes).
  // Per character -1.5/1 vs -2.5/2 -> 1; per byte it would be -0.75 vs -1.25 -> 0.
  auto u = request({"\xC3\xA9", "ab"}, 1);
  CHECK(repro::mc_predict(u, {-1.5, -2.5}).pred_norm == 1);

  // Ties go to the first maximum (numpy argmax); the delimiter is not counted.
  auto t = request({"xy", "zw"}, 0);
  CHECK(repro::mc_predict(t, {-1.0, -1.0}).pred == 0);
  CHECK(repro::mc_predict(t, {-1.0, std::numeric_limits<double>::quiet_NaN()}).pred == 1);

  std::vector<repro::McRequest> reqs = {r, u, request({"long answer", "x"}, 0), request({"p", "q"}, 1)};
  std::vector<std::vector<double>> lls = {{-2.0, -5.0}, {-1.5, -2.5}, {-3.0, -1.0}, {-4.0, -3.0}};
  // acc: pred 0,0,1,1 vs gold 1,1,0,1 -> 1/4. acc_norm: pred 1,1,0 (-3/11 > -1/1),1 -> 4/4.
  auto s = repro::mc_score(reqs, lls);
  CHECK(s.count == 4);
  CHECK(s.acc == Approx(0.25));
  CHECK(s.acc_norm == Approx(1.0));
  CHECK(s.metric("acc") == s.acc);
  CHECK_THROWS_AS(s.metric("f1"), repro::ConfigError);
  CHECK_THROWS_AS(repro::mc_predict(r, {-1.0}), repro::ConfigError);
  CHECK_THROWS_AS(repro::mc_score(reqs, {{-1.0, -2.0}}), repro::ConfigError);
}

TEST_CASE("reported metric per task and the plain average", "[datasets]") {
  repro::McScore s;
  s.acc = 0.5;
  s.acc_norm = 0.75;
  for (const char* t : {"piqa", "hellaswag", "arc_easy", "arc_challenge", "openbookqa"})
    CHECK(repro::mc_reported(t, s) == 0.75);
  for (const char* t : {"winogrande", "rte", "boolq"}) CHECK(repro::mc_reported(t, s) == 0.5);
  CHECK(repro::mc_task_names().size() == 8);
  CHECK(repro::mc_average({0.5, 0.75, 1.0}) == Approx(0.75));
  CHECK_THROWS_AS(repro::mc_average({}), repro::ConfigError);
}
