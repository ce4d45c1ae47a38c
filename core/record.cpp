#include "core/record.h"

#include <cmath>
#include <ctime>
#include <limits>

#include <fmt/format.h>

#include "core/error.h"

namespace repro {

double Repetitions::mean() const {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  double sum = 0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

double Repetitions::stddev() const {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  if (values.size() == 1) return std::isnan(values[0]) ? values[0] : 0.0;
  const double m = mean();
  double ss = 0;
  for (double v : values) ss += (v - m) * (v - m);
  return std::sqrt(ss / static_cast<double>(values.size() - 1));
}

void Record::set_repeated(const std::string& name, std::vector<double> values) {
  Repetitions r{std::move(values)};
  metrics[name] = r.mean();
  repetitions[name] = std::move(r);
}

const Repetitions* Record::repeated(const std::string& name) const {
  auto it = repetitions.find(name);
  return it == repetitions.end() ? nullptr : &it->second;
}

namespace {

nlohmann::json number(double v) {
  // JSON has no NaN: a NaN metric is written as null and read back as NaN.
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

double number_or_nan(const nlohmann::json& v) {
  return v.is_number() ? v.get<double>() : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

nlohmann::json Record::to_json() const {
  nlohmann::json j;
  j["schema"] = schema;
  j["table"] = table;
  j["key"] = key;
  j["row"] = row;
  j["label"] = label;
  j["spec"] = spec;
  j["row_spec"] = row_spec;
  j["scale"] = scale;
  j["seed"] = seed;
  j["model"] = model;
  j["data"] = data;
  nlohmann::json m = nlohmann::json::object();
  for (const auto& [name, v] : metrics) m[name] = v;
  for (const auto& [name, r] : repetitions) {
    nlohmann::json values = nlohmann::json::array();
    for (double v : r.values) values.push_back(number(v));
    m[name] = {{"mean", number(r.mean())}, {"std", number(r.stddev())}, {"n", r.n()}, {"values", values}};
  }
  j["metrics"] = m;
  j["time_s"] = time_s;
  j["peak_mem_mb"] = peak_mem_mb;
  j["counters"] = counters;
  j["details"] = details;
  j["env"] = env;
  j["status"] = status;
  if (status != "ok") {
    j["error"] = {{"type", error_type}, {"message", error_message}};
    if (!error_hint.empty()) j["error"]["hint"] = error_hint;
  }
  j["started_at"] = started_at;
  j["finished_at"] = finished_at;
  return j;
}

Record Record::from_json(const nlohmann::json& j, const std::string& origin) {
  if (!j.is_object()) throw DataError(fmt::format("{}: a record must be a JSON object", origin));
  int schema = j.value("schema", -1);
  if (schema < kOldestReadableRecordSchema || schema > kRecordSchema)
    throw DataError(fmt::format("{}: record schema {} (this build reads schemas {} to {})", origin, schema,
                                kOldestReadableRecordSchema, kRecordSchema));
  Record r;
  try {
    r.table = j.at("table").get<std::string>();
    r.key = j.at("key").get<std::string>();
    r.row = j.at("row").get<int64_t>();
    r.label = j.at("label").get<std::string>();
    r.spec = j.at("spec").get<std::string>();
    r.row_spec = j.at("row_spec").get<std::string>();
    r.scale = j.value("scale", "embedded");
    r.seed = j.value("seed", uint64_t{0});
    r.model = j.value("model", nlohmann::json());
    r.data = j.value("data", nlohmann::json());
    for (auto& [k, v] : j.at("metrics").items()) {
      if (!v.is_object()) {
        r.metrics[k] = number_or_nan(v);
        continue;
      }
      // A repeated metric (schema 2): mean, std and n are recomputed from the values.
      if (schema < 2) throw DataError(fmt::format("{}: metric '{}' is an object in a schema {} record", origin, k, schema));
      std::vector<double> values;
      for (const auto& x : v.at("values")) values.push_back(number_or_nan(x));
      if (values.empty()) throw DataError(fmt::format("{}: repeated metric '{}' has no values", origin, k));
      if (v.contains("n") && v.at("n").get<size_t>() != values.size())
        throw DataError(fmt::format("{}: repeated metric '{}' has n = {} but {} values", origin, k,
                                    v.at("n").dump(), values.size()));
      r.set_repeated(k, std::move(values));
    }
    r.time_s = j.value("time_s", std::map<std::string, double>{});
    r.peak_mem_mb = j.value("peak_mem_mb", std::map<std::string, double>{});
    r.counters = j.value("counters", std::map<std::string, int64_t>{});
    r.details = j.value("details", nlohmann::json::object());
    r.env = j.value("env", nlohmann::json::object());
    r.status = j.at("status").get<std::string>();
    if (r.status != "ok") {
      const auto& e = j.at("error");
      r.error_type = e.value("type", "Error");
      r.error_message = e.value("message", "");
      r.error_hint = e.value("hint", "");
    }
    r.started_at = j.value("started_at", "");
    r.finished_at = j.value("finished_at", "");
  } catch (const nlohmann::json::exception& e) {
    throw DataError(fmt::format("{}: malformed record: {}", origin, e.what()));
  }
  return r;
}

std::string utc_timestamp() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace repro
