// The kernel_speed suite: one CPU kernel for compressed inference (kernels/) at one layer shape and
// batch, timed against dense fp32 OpenBLAS in the same run, with the memory bandwidth measured
// beside it. A row is a weight `format` (fp32, q4g128, q3g128, q2g128, 2:4, 2:4+lr64, ...), a
// `shape` (a Llama-3-8B linear or "<out>x<in>") and a `batch`. Weights are random and seeded: the
// kernels' time does not depend on the values. The protocol and its guards:
// kernels/speed/kernel_speed.h; the metrics: README.md here.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <regex>
#include <string>

#include "core/error.h"
#include "core/run_context.h"
#include "core/suite_registry.h"
#include "core/table_spec.h"
#include "kernels/kernel_options.h"
#include "kernels/speed/kernel_speed.h"

namespace repro {
namespace {

namespace ks = kernels::speed;

struct LayerShape {
  int64_t out = 0, in = 0;
};

// Llama-3-8B (hidden 4096, intermediate 14336, 8 KV heads of 128): weight [out, in].
LayerShape parse_shape(const Params& p) {
  const std::string s = p.get_string("shape");
  if (s == "q_proj" || s == "o_proj") return {4096, 4096};
  if (s == "k_proj" || s == "v_proj") return {1024, 4096};
  if (s == "gate_proj" || s == "up_proj") return {14336, 4096};
  if (s == "down_proj") return {4096, 14336};
  std::smatch m;
  if (std::regex_match(s, m, std::regex("([0-9]+)x([0-9]+)"))) {
    LayerShape l{std::stoll(m[1]), std::stoll(m[2])};
    if (l.out > 0 && l.in > 0) return l;
  }
  p.fail("shape", fmt::format("'{}' is neither a Llama-3-8B linear (q_proj, k_proj, v_proj, o_proj, gate_proj, "
                              "up_proj, down_proj) nor <out>x<in>",
                              s));
  return {};
}

class KernelSpeedSuite : public Suite {
 public:
  static const SuiteInfo& static_info() {
    static const SuiteInfo info = [] {
      SuiteInfo i;
      i.name = "kernel_speed";
      i.family = Suite::kFamily;
      i.summary = "CPU kernel time of a compressed weight format vs dense fp32 OpenBLAS at a layer shape and batch";
      i.version = "2";
      i.params = {
          param_string("format", "q4g128", "weight format: fp32, q<bits>g<group>, 2:4, 2:4+lr<rank>"),
          param_string("shape", "down_proj", "a Llama-3-8B linear (q_proj, k_proj, gate_proj, down_proj, ...) or <out>x<in>"),
          param_int("batch", 1, "rows of x (tokens)").at_least(1),
          param_int("threads", 0, "kernel and triad threads (0: every core, as OpenBLAS uses by default)").at_least(0),
          param_int("reps", 15, "timed bursts of each of kernel and baseline, alternating").at_least(3),
          param_int("burst", 8, "back-to-back calls per timed burst, as a decode step runs its layers (1: cold calls)")
              .range(1, 1000),
          param_float("min_buffer_mb", 128, "total size of the rotated weight copies (defeats the L3 cache)"),
          param_float("triad_mb", 128, "array size of the bandwidth triad"),
          param_float("settle_ms", 200, "untimed pause after each baseline burst (OpenBLAS workers spin before they sleep)"),
      };
      i.metrics = {
          {"time_us", Better::Lower, "kernel median microseconds per call", 4},
          {"p10_us", Better::Lower, "kernel 10th percentile", 4},
          {"p90_us", Better::Lower, "kernel 90th percentile", 4},
          {"dense_us", Better::Lower, "dense fp32 OpenBLAS median microseconds per call", 4},
          {"speedup", Better::Higher, "median of paired dense / kernel time ratios", 3},
          {"gbps", Better::Higher, "weight bytes read per call / median time, GB/s", 3},
          {"bw_pct", Better::Higher, "gbps as % of the triad bandwidth measured in the same row", 3},
          {"gflops", Better::Higher, "2 out in batch / median time (the dense product's work), GFLOP/s", 3},
          {"triad_gbps", Better::None, "STREAM-style triad bandwidth measured in the same row, GB/s", 3},
          {"batch", Better::None, "rows of x", 3},
          {"weight_mb", Better::Lower, "bytes of the weight one call reads (codes, scales, values, factors), MB", 4},
      };
      return i;
    }();
    return info;
  }
  const SuiteInfo& info() const override { return static_info(); }

  nlohmann::json fingerprint(const RowSpec& row, RunContext&) override {
    const Params& p = row.suite_params;
    const LayerShape s = parse_shape(p);
    return {{"model", {{"name", fmt::format("random {} weight {}x{}", p.get_string("format"), s.out, s.in)}}},
            {"data", {{"x", "random uniform [-1, 1]"}}}};
  }

  Record run_row(const RowSpec& row, RunContext& ctx) override {
    const Params& p = row.suite_params;
    if (!ctx.device().is_cpu())
      throw NotSupported("the kernel_speed suite times the CPU kernels; run it with --device cpu (the CUDA kernels: "
                         "`repro bench cuda_kernels`, kernels/cuda/README.md)");
    ks::CaseSpec spec;
    try {
      spec.format = ks::parse_format(p.get_string("format"));
    } catch (const ConfigError& e) {
      p.fail("format", e.what());
    }
    const LayerShape shape = parse_shape(p);
    spec.rows = shape.out;
    spec.cols = shape.in;
    spec.batch = p.get_int("batch");
    spec.threads = ks::threads_or_all(static_cast<int>(p.get_int("threads")));
    spec.reps = static_cast<int>(p.get_int("reps"));
    spec.burst = static_cast<int>(p.get_int("burst"));
    spec.min_buffer_mb = p.get_float("min_buffer_mb");
    spec.settle_ms = p.get_float("settle_ms");
    spec.seed = ctx.seed();

    Record rec;
    double triad = 0;
    ks::CaseResult r;
    {
      auto t = ctx.timer().scope("triad");
      triad = ks::triad_gbps(spec.threads, p.get_float("triad_mb"));
    }
    {
      auto t = ctx.timer().scope("measure");
      r = ks::run_case(spec);
    }
    const double gbps = static_cast<double>(r.candidate_bytes) / r.candidate.median / 1e9;
    rec.metrics["time_us"] = r.candidate.median * 1e6;
    rec.metrics["p10_us"] = r.candidate.p10 * 1e6;
    rec.metrics["p90_us"] = r.candidate.p90 * 1e6;
    rec.metrics["dense_us"] = r.baseline.median * 1e6;
    rec.metrics["speedup"] = r.speedup;
    rec.metrics["gbps"] = gbps;
    rec.metrics["bw_pct"] = 100.0 * gbps / triad;
    rec.metrics["gflops"] = r.flops / r.candidate.median / 1e9;
    rec.metrics["triad_gbps"] = triad;
    rec.metrics["batch"] = static_cast<double>(spec.batch);
    rec.metrics["weight_mb"] = static_cast<double>(r.candidate_bytes) / 1e6;
    rec.details["shape"] = {shape.out, shape.in};
    rec.details["threads"] = spec.threads;
    rec.details["blas_threads"] = r.blas_threads;
    rec.details["isa"] = kernels::isa_name(kernels::resolve_isa(kernels::Isa::kAuto));
    rec.details["weight_copies"] = r.buffers;
    rec.details["dense_p10_us"] = r.baseline.p10 * 1e6;
    rec.details["dense_p90_us"] = r.baseline.p90 * 1e6;
    rec.details["dense_gbps"] = static_cast<double>(r.baseline_bytes) / r.baseline.median / 1e9;
    rec.details["check_error_over_bound"] = r.max_error;
    spdlog::info("kernel_speed: {} {}x{} batch {}: {:.1f} us (dense {:.1f} us, {:.2f}x), {:.1f} GB/s = {:.0f}% of "
                 "triad {:.1f} GB/s",
                 spec.format.name, shape.out, shape.in, spec.batch, r.candidate.median * 1e6,
                 r.baseline.median * 1e6, r.speedup, gbps, 100.0 * gbps / triad, triad);
    return rec;
  }
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_SUITE(repro::KernelSpeedSuite);
