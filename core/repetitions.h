#pragma once
// Repeated measurements for suites that report mean ± std over seeds (DP accuracy, conformal
// coverage). A suite adds repeats_param() to its parameters and wraps the measured part of run_row:
//
//   Record rec;
//   repeat_metrics(repeats_of(row.suite_params), ctx, rec, [&](int64_t repetition) {
//     at::Generator g = ctx.generator("noise");  // a fresh stream in every repetition
//     ...
//     return std::map<std::string, double>{{"acc", acc}};
//   });
//
// Each repetition runs with ctx.repetition() == k, so every ctx.generator() / component_seed()
// draws an independent stream per repetition, all derived from the row's seed (same seed, same
// results). Repetition 0 draws what an unrepeated row draws.

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "core/params.h"
#include "core/record.h"

namespace repro {

class RunContext;

inline constexpr const char* kRepeatsParam = "repeats";

// The suite parameter "repeats" (int, default `default_repeats`).
ParamSpec repeats_param(int64_t default_repeats = 1);
// The row's "repeats"; below 1 -> ConfigError naming the parameter.
int64_t repeats_of(const Params& params);

// The metrics of one repetition.
using RepetitionBody = std::function<std::map<std::string, double>(int64_t repetition)>;

// Runs body(0) ... body(repeats - 1) with ctx.repetition() set accordingly (restored afterwards,
// also when body throws). With repeats == 1 the metrics are stored as measured once; otherwise
// each becomes a repeated metric of `rec` (Record::set_repeated: mean, sample std, n). Every
// repetition must return the same metric names (InternalError otherwise: a suite bug).
void repeat_metrics(int64_t repeats, RunContext& ctx, Record& rec, const RepetitionBody& body);

}  // namespace repro
