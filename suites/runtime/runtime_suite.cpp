// The runtime suite: wall time of one layer compressor on the linear layers of one decoder block
// at a model's shapes (Llama-3-8B: q/o 4096x4096, k/v 1024x4096, gate/up 14336x4096, down
// 4096x14336), with random weights and a Hessian from random correlated inputs (the time of these
// solvers does not depend on the values), and the time extrapolated to the whole model
// (7 linears x `blocks`). `shape_scale` divides every dimension, so a CPU run measures the same
// sequence of solves on smaller layers; the report says which scale produced a number.
//
// Linears with the same shape (q/o, k/v, gate/up) are timed once and counted twice unless
// `time_every_linear` is set: the solvers' time depends on the shape only.

#include <fmt/format.h>
#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/run_context.h"
#include "core/suite_registry.h"
#include "core/table_spec.h"
#include "core/timing.h"
#include "methods/api/layer_compressor.h"
#include "methods/common/layer_error.h"
#include "suites/synthetic_layer.h"

namespace repro {
namespace {

struct LinearShape {
  const char* name;
  int64_t out, in;
};

// Llama-3-8B (meta-llama/Meta-Llama-3-8B config.json: hidden 4096, intermediate 14336, 32 heads,
// 8 KV heads of 128, 32 layers). Weight shapes are [out, in].
const std::vector<LinearShape> kLlama3_8B = {
    {"q_proj", 4096, 4096},     {"k_proj", 1024, 4096}, {"v_proj", 1024, 4096}, {"o_proj", 4096, 4096},
    {"gate_proj", 14336, 4096}, {"up_proj", 14336, 4096}, {"down_proj", 4096, 14336},
};

class RuntimeSuite : public Suite {
 public:
  static const SuiteInfo& static_info() {
    static const SuiteInfo info = [] {
      SuiteInfo i;
      i.name = "runtime";
      i.family = Suite::kFamily;
      i.summary = "wall time of a layer compressor on one decoder block's linears at a model's shapes, "
                  "extrapolated to the model";
      i.version = "1";
      i.params = {
          param_string("shapes", "llama3_8b", "the model whose linear shapes are timed", {"llama3_8b"}),
          param_int("shape_scale", 1, "divide every layer dimension by this (1: the model's shapes)").at_least(1),
          param_int("blocks", 32, "decoder blocks of the model, for the extrapolation").at_least(1),
          param_int("n_tokens", 0, "calibration rows of X per layer (0: 2 x in_features)").at_least(0),
          param_float("spectrum_decay", 1.0, "input covariance eigenvalue k ~ (k+1)^-decay"),
          param_int("outlier_channels", 8, "input channels scaled by outlier_scale").at_least(0),
          param_float("outlier_scale", 20.0, "scale of the outlier channels"),
          param_bool("time_every_linear", false, "time linears of the same shape separately (else once)"),
      };
      i.slots = {{"compressor", "LayerCompressor", false, "the method whose runtime is measured"}};
      i.metrics = {
          {"block_s", Better::Lower, "seconds to compress the 7 linears of one block", 4},
          {"model_h", Better::Lower, "hours to compress every block (block_s x blocks / 3600)", 4},
          {"layer_s", Better::Lower, "seconds to compress the q_proj layer", 4},
          {"mlp_s", Better::Lower, "seconds to compress the gate_proj layer", 4},
          {"rel_error", Better::Lower, "mean relative layer error over the timed layers (sanity)", 4},
      };
      return i;
    }();
    return info;
  }
  const SuiteInfo& info() const override { return static_info(); }

  nlohmann::json fingerprint(const RowSpec& row, RunContext&) override {
    const Params& p = row.suite_params;
    return {{"model", {{"name", fmt::format("{} shapes / {}", p.get_string("shapes"), p.get_int("shape_scale"))}}},
            {"data", {{"calibration", "synthetic"}}}};
  }

  Record run_row(const RowSpec& row, RunContext& ctx) override {
    const Params& p = row.suite_params;
    const int64_t scale = p.get_int("shape_scale");
    const Component* c = row.first("compressor");
    if (!c) throw ConfigError(fmt::format("row '{}': the runtime suite needs a compressor", row.display));
    auto method = Registry<LayerCompressor>::instance().create(c->method);
    method->configure(c->params);

    // Distinct shapes in block order, each with the linears it stands for.
    struct Job {
      LinearShape shape;
      std::vector<std::string> linears;
    };
    std::vector<Job> jobs;
    for (const auto& l : kLlama3_8B) {
      if (l.out % scale != 0 || l.in % scale != 0 || (l.out / scale) % 8 != 0 || (l.in / scale) % 8 != 0)
        p.fail("shape_scale", fmt::format("{} ({}x{}) divided by {} must leave dimensions that are multiples of 8",
                                          l.name, l.out, l.in, scale));
      LinearShape s{l.name, l.out / scale, l.in / scale};
      Job* same = nullptr;
      if (!p.get_bool("time_every_linear"))
        for (auto& j : jobs)
          if (j.shape.out == s.out && j.shape.in == s.in) same = &j;
      if (same) same->linears.push_back(l.name);
      else jobs.push_back({s, {l.name}});
    }

    at::Generator gen = ctx.generator("runtime.data");
    auto bar = ctx.progress(fmt::format("runtime {}", row.display), static_cast<int64_t>(jobs.size()));
    Record rec;
    double block_s = 0, err_sum = 0;
    std::map<std::string, double> seconds;  // per linear name
    nlohmann::json per_layer = nlohmann::json::array();
    for (const auto& job : jobs) {
      LayerProblem problem;
      {
        auto t = ctx.timer().scope("calibrate");
        SyntheticLayerOptions o;
        o.out_features = job.shape.out;
        o.in_features = job.shape.in;
        o.n_tokens = p.get_int("n_tokens") > 0 ? p.get_int("n_tokens") : 2 * job.shape.in;
        o.spectrum_decay = p.get_float("spectrum_decay");
        o.outlier_channels = p.get_int("outlier_channels");
        o.outlier_scale = p.get_float("outlier_scale");
        SyntheticLayer layer = make_synthetic_layer(o, gen);
        problem.name = job.shape.name;
        problem.W = layer.W.to(ctx.device());
        problem.H = hessian_from_inputs(layer.X).to(ctx.device());
        problem.n_samples = o.n_tokens;
        if (method->needs_inputs()) problem.X = layer.X.to(ctx.device());
      }
      ctx.synchronize();
      Stopwatch w;
      CompressedLinear out;
      {
        auto t = ctx.timer().scope("compress");
        out = method->compress(problem, ctx);
        ctx.synchronize();
      }
      const double s = w.seconds();
      const double err = relative_error(problem.W, out.dense(), problem.H);
      err_sum += err;
      for (const auto& name : job.linears) {
        seconds[name] = s;
        block_s += s;
      }
      per_layer.push_back({{"linears", job.linears}, {"shape", {job.shape.out, job.shape.in}}, {"seconds", s},
                           {"rel_error", err}});
      spdlog::info("runtime: {} {} {}x{}: {:.3f} s (rel error {:.4f})", row.display, fmt::join(job.linears, "/"),
                   job.shape.out, job.shape.in, s, err);
      bar->advance();
    }
    bar->finish();

    rec.metrics["block_s"] = block_s;
    rec.metrics["model_h"] = block_s * static_cast<double>(p.get_int("blocks")) / 3600.0;
    rec.metrics["layer_s"] = seconds.at("q_proj");
    rec.metrics["mlp_s"] = seconds.at("gate_proj");
    rec.metrics["rel_error"] = err_sum / static_cast<double>(jobs.size());
    rec.details["layers"] = per_layer;
    rec.details["shape_scale"] = scale;
    return rec;
  }
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_SUITE(repro::RuntimeSuite);
