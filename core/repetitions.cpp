#include "core/repetitions.h"

#include <fmt/format.h>

#include "core/error.h"
#include "core/run_context.h"

namespace repro {

ParamSpec repeats_param(int64_t default_repeats) {
  return param_int(kRepeatsParam, default_repeats,
                   "repetitions of the measurement, each with its own seeds; metrics report mean ± sample std");
}

int64_t repeats_of(const Params& params) {
  const int64_t n = params.get_int(kRepeatsParam);
  if (n < 1) params.fail(kRepeatsParam, fmt::format("must be at least 1, not {}", n));
  return n;
}

namespace {
// Puts the context back to its repetition when the measurement ends, however it ends.
class RepetitionGuard {
 public:
  explicit RepetitionGuard(RunContext& ctx) : ctx_(ctx), saved_(ctx.repetition()) {}
  ~RepetitionGuard() { ctx_.set_repetition(saved_); }
  RepetitionGuard(const RepetitionGuard&) = delete;
  RepetitionGuard& operator=(const RepetitionGuard&) = delete;

 private:
  RunContext& ctx_;
  int64_t saved_;
};
}  // namespace

void repeat_metrics(int64_t repeats, RunContext& ctx, Record& rec, const RepetitionBody& body) {
  if (repeats < 1) throw InternalError(fmt::format("repeat_metrics: {} repetitions", repeats));
  RepetitionGuard guard(ctx);
  std::map<std::string, std::vector<double>> values;
  for (int64_t k = 0; k < repeats; ++k) {
    ctx.set_repetition(k);
    std::map<std::string, double> m = body(k);
    if (k > 0 && m.size() != values.size())
      throw InternalError(fmt::format("repetition {} returned {} metrics, repetition 0 returned {}", k, m.size(),
                                      values.size()));
    for (const auto& [name, v] : m) {
      if (k > 0 && !values.count(name))
        throw InternalError(fmt::format("repetition {} returned metric '{}' that repetition 0 did not", k, name));
      values[name].push_back(v);
    }
  }
  for (auto& [name, v] : values) {
    if (repeats == 1) rec.metrics[name] = v.front();
    else rec.set_repeated(name, std::move(v));
  }
}

}  // namespace repro
