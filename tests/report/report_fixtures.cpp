#include "tests/report/report_fixtures.h"

#include "core/config.h"
#include "core/registry.h"
#include "core/suite_registry.h"

namespace repro {

// A stand-in plugin family, so rows can have components ("fakeq(bits=3)").
class ReportTestCompressor {
 public:
  static constexpr const char* kFamily = "ReportTestCompressor";
  virtual ~ReportTestCompressor() = default;
};

}  // namespace repro

namespace repro::report_test {

namespace {

class FakeQuant : public ReportTestCompressor {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info = [] {
      MethodInfo m;
      m.name = "fakeq";
      m.family = ReportTestCompressor::kFamily;
      m.summary = "test stand-in for a quantizer";
      m.params = {param_int("bits", 4, "bits per weight"), param_int("group", 128, "group size")};
      return m;
    }();
    return info;
  }
};

class FakeSuite : public Suite {
 public:
  static const SuiteInfo& static_info() {
    static const SuiteInfo info = [] {
      SuiteInfo s;
      s.name = "report_test";
      s.family = Suite::kFamily;
      s.summary = "test suite for reports";
      s.params = {param_string("model", "zoo:tiny", "model")};
      s.slots = {{"compressor", ReportTestCompressor::kFamily, false, "the compressor"}};
      s.metrics = {{"ppl", Better::Lower, "perplexity", 3},
                   {"acc", Better::Higher, "accuracy", 3},
                   {"bits", Better::Lower, "bits per weight", 2}};
      return s;
    }();
    return info;
  }
  const SuiteInfo& info() const override { return static_info(); }
  nlohmann::json fingerprint(const RowSpec&, RunContext&) override { return nlohmann::json::object(); }
  Record run_row(const RowSpec&, RunContext&) override { return Record{}; }
};

}  // namespace

REPRO_REGISTER_METHOD(ReportTestCompressor, FakeQuant);
REPRO_REGISTER_SUITE(FakeSuite);

TableSpec make_table(const std::string& toml) { return TableSpec::parse(parse_toml(toml, "t.toml"), "demo/t", {}); }

namespace {

Record base_record(const RowSpec& row, const std::string& finished_at) {
  Record r;
  r.table = row.table_id;
  r.key = "k" + std::to_string(row.index) + "-" + finished_at;
  r.row = static_cast<int64_t>(row.index);
  r.label = row.display;
  r.spec = row.pipeline();
  r.row_spec = row.canonical();
  r.scale = row.scale;
  r.seed = 0;
  r.model = {{"name", "zoo:tiny"}, {"sha256", "abc"}};
  r.env = {{"git", "1234abc"}, {"libtorch", "1.13.1"}, {"blas", "openblas"}, {"cpu", "Test CPU"},
           {"gpu", nullptr},   {"build_type", "Release"}};
  r.started_at = finished_at;
  r.finished_at = finished_at;
  return r;
}

}  // namespace

Record ok_record(const RowSpec& row, std::map<std::string, double> metrics, const std::string& finished_at) {
  Record r = base_record(row, finished_at);
  r.metrics = std::move(metrics);
  return r;
}

Record error_record(const RowSpec& row, const std::string& type, const std::string& message,
                    const std::string& finished_at) {
  Record r = base_record(row, finished_at);
  r.status = "error";
  r.error_type = type;
  r.error_message = message;
  return r;
}

}  // namespace repro::report_test
