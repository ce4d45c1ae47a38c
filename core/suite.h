#pragma once
// Suites produce the rows of tables: perplexity, layer_error, runtime, ... A suite declares its
// own parameters, the component slots a row may fill (compressor, refiner, transforms), and the
// metrics it records with their direction, so reports know which way is better.
//
// Register with one line in the suite's .cpp:  REPRO_REGISTER_SUITE(PerplexitySuite)  (see
// core/suite_registry.h), which needs `static const SuiteInfo& PerplexitySuite::static_info()`.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/record.h"
#include "core/registry.h"

namespace repro {

class RunContext;
struct RowSpec;

enum class Better { Lower, Higher, None };
std::string better_name(Better b);
Better parse_better(const std::string& s);  // "lower" | "higher" | "none"; ConfigError otherwise

struct MetricInfo {
  std::string name;  // "wikitext2_ppl"
  Better better = Better::Lower;
  std::string doc;
  int precision = 3;  // significant digits in tables
};

struct ComponentSlot {
  std::string key;     // row key: "compressor"
  std::string family;  // "LayerCompressor"
  bool list = false;   // a list of components (transforms)
  std::string doc;
};

struct SuiteInfo : MethodInfo {
  std::vector<ComponentSlot> slots;
  std::vector<MetricInfo> metrics;  // metrics a row may record; suites may add more at run time

  const MetricInfo* find_metric(const std::string& n) const {
    for (const auto& m : metrics)
      if (m.name == n) return &m;
    return nullptr;
  }
};

class Suite {
 public:
  static constexpr const char* kFamily = "Suite";
  virtual ~Suite() = default;

  virtual const SuiteInfo& info() const = 0;

  // The identity of what a row reads (model and data files), for the cache key:
  // {"model": {...}, "data": {...}}. Must be cheap (hash files, don't load them).
  virtual nlohmann::json fingerprint(const RowSpec& row, RunContext& ctx) = 0;

  // Runs one row. Fills metrics, details, time_s (phases), model/data identity. Throws a
  // repro::Error on failure; the driver turns it into an error record.
  virtual Record run_row(const RowSpec& row, RunContext& ctx) = 0;
  // What the row will need before it runs, for `repro reproduce --dry-run`: {"summary": one line,
  // "peak_mb", "seconds", ...}; null when the suite has no cost model. Reads configs, not weights.
  virtual nlohmann::json estimate(const RowSpec& /*row*/, RunContext& /*ctx*/) { return nullptr; }
};

// Suites are not registered in a method Registry (see core/suite_registry.h).
template <>
struct uses_method_registry<Suite> : std::false_type {};

}  // namespace repro
