#include "tests/catch.h"

#include <cmath>

#include "core/error.h"
#include "core/record.h"

using namespace repro;

namespace {
Record base() {
  Record r;
  r.table = "demo/t";
  r.key = "k";
  r.row = 2;
  r.label = "Rep";
  r.spec = "dense";
  r.row_spec = "dense | repeats=4";
  r.finished_at = "2026-01-01T00:00:00Z";
  return r;
}
}  // namespace

TEST_CASE("record: repetitions give the mean and the sample standard deviation", "[core][record]") {
  Repetitions r{{1.0, 2.0, 3.0, 4.0}};
  CHECK(r.n() == 4);
  CHECK(r.mean() == 2.5);
  // Sample (n - 1): sqrt(5/3) = 1.2910; the population std would be 1.1180.
  CHECK(r.stddev() == Approx(std::sqrt(5.0 / 3.0)));
  CHECK(Repetitions{{7.0}}.stddev() == 0.0);
  CHECK(std::isnan(Repetitions{}.mean()));
  CHECK(std::isnan(Repetitions{}.stddev()));
}

TEST_CASE("record: a record with repetitions round-trips through JSON", "[core][record]") {
  Record r = base();
  r.metrics["ppl"] = 31.7;
  r.set_repeated("acc", {0.90, 0.92, 0.94});
  CHECK(r.metrics.at("acc") == Approx(0.92));  // metrics hold the mean: claims and plots read means
  r.peak_mem_mb = {{"host", 120.5}, {"compress.host", 110.0}};

  nlohmann::json j = r.to_json();
  CHECK(j.at("schema") == kRecordSchema);
  CHECK(kRecordSchema == 2);
  CHECK(j.at("metrics").at("ppl") == 31.7);
  const auto& acc = j.at("metrics").at("acc");
  CHECK(acc.at("n") == 3);
  CHECK(acc.at("mean").get<double>() == Approx(0.92));
  CHECK(acc.at("std").get<double>() == Approx(0.02));
  CHECK(acc.at("values").size() == 3);

  Record back = Record::from_json(nlohmann::json::parse(j.dump()), "r.json");
  CHECK(back.metrics.at("ppl") == 31.7);
  CHECK(back.repeated("ppl") == nullptr);
  REQUIRE(back.repeated("acc") != nullptr);
  CHECK(back.repeated("acc")->values == std::vector<double>{0.90, 0.92, 0.94});
  CHECK(back.metrics.at("acc") == Approx(0.92));
  CHECK(back.peak_mem_mb.at("compress.host") == 110.0);
  CHECK(back.to_json() == j);
}

TEST_CASE("record: an error record keeps its hint", "[core][record]") {
  Record r = base();
  r.status = "error";
  r.error_type = "DeviceOutOfMemory";
  r.error_message = "CUDA out of memory";
  r.error_hint = "lower calib_batch";
  Record back = Record::from_json(r.to_json(), "r.json");
  CHECK(back.error_hint == "lower calib_batch");
  r.error_hint.clear();
  CHECK_FALSE(r.to_json().at("error").contains("hint"));
}

TEST_CASE("record: a schema 1 record still loads", "[core][record]") {
  // As written by the first release (no repetitions, no hint).
  const char* v1 = R"json({"schema": 1, "table": "examples/layer_error", "key": "0123456789abcdef0123", "row": 1,
    "label": "Magnitude [sparsity=0.3]", "spec": "magnitude(sparsity=0.3)", "row_spec": "magnitude(sparsity=0.3) | x=1",
    "scale": "embedded", "seed": 0, "model": {"name": "synthetic 512x512"}, "data": {"calibration": "synthetic"},
    "metrics": {"rel_error": 0.01265, "bits_per_weight": 12.2, "nan_metric": null},
    "time_s": {"compress": 0.01, "total": 0.2}, "peak_mem_mb": {"host": 310.2}, "counters": {},
    "details": {}, "env": {"git": "abc", "gpu": null}, "status": "ok",
    "started_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:00:01Z"})json";
  Record r = Record::from_json(nlohmann::json::parse(v1), "old.json");
  CHECK(r.schema == kRecordSchema);  // read into the current schema
  CHECK(r.metrics.at("rel_error") == 0.01265);
  CHECK(std::isnan(r.metrics.at("nan_metric")));
  CHECK(r.repetitions.empty());
  CHECK(r.peak_mem_mb.at("host") == 310.2);
  CHECK(r.to_json().at("schema") == 2);

  const char* v1_error = R"({"schema": 1, "table": "t/t", "key": "k", "row": 0, "label": "L", "spec": "dense",
    "row_spec": "dense |", "metrics": {}, "status": "error", "error": {"type": "TorchError", "message": "m"}})";
  Record e = Record::from_json(nlohmann::json::parse(v1_error), "old_error.json");
  CHECK(e.error_type == "TorchError");
  CHECK(e.error_hint.empty());
}

TEST_CASE("record: unknown schemas and malformed repetitions are data errors", "[core][record]") {
  nlohmann::json j = base().to_json();
  j["schema"] = 3;
  CHECK_THROWS_AS(Record::from_json(j, "future.json"), DataError);
  j["schema"] = 0;
  CHECK_THROWS_AS(Record::from_json(j, "ancient.json"), DataError);

  j = base().to_json();
  j["metrics"]["acc"] = {{"mean", 1.0}, {"std", 0.0}, {"n", 3}, {"values", {1.0, 1.0}}};
  CHECK_THROWS_AS(Record::from_json(j, "n.json"), DataError);
  j["metrics"]["acc"] = {{"mean", 1.0}, {"n", 0}, {"values", nlohmann::json::array()}};
  CHECK_THROWS_AS(Record::from_json(j, "empty.json"), DataError);
  j["schema"] = 1;
  j["metrics"]["acc"] = {{"mean", 1.0}, {"std", 0.0}, {"n", 1}, {"values", {1.0}}};
  CHECK_THROWS_AS(Record::from_json(j, "v1_object.json"), DataError);
}
