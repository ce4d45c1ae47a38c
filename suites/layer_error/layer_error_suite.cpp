// The layer_error suite: relative layer-wise reconstruction error ||X W^T - X W_hat^T||^2 / ||X W^T||^2
// of one compressed linear layer, with its storage statistics. The layer is synthetic (correlated
// inputs with outlier channels, from the row's seed) or a weight read from a .safetensors file.

#include <fmt/format.h>
#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/run_context.h"
#include "core/suite_registry.h"
#include "core/table_spec.h"
#include "core/run_context.h"
#include "methods/api/layer_compressor.h"
#include "models/safetensors.h"
#include "suites/synthetic_layer.h"

namespace repro {
namespace {

class LayerErrorSuite : public Suite {
 public:
  static const SuiteInfo& static_info() {
    static const SuiteInfo info = [] {
      SuiteInfo i;
      i.name = "layer_error";
      i.family = Suite::kFamily;
      i.summary = "relative layer-wise reconstruction error and storage of one compressed linear layer";
      i.version = "1";
      i.params = {
          param_string("layer", "synthetic", "'synthetic' or 'safetensors' (weight from `file`/`tensor`)",
                       {"synthetic", "safetensors"}),
          param_int("out_features", 512, "synthetic layer: rows of W"),
          param_int("in_features", 512, "synthetic layer: columns of W"),
          param_int("n_tokens", 2048, "calibration tokens (rows of X)"),
          param_float("spectrum_decay", 1.0, "input covariance eigenvalue k ~ (k+1)^-decay"),
          param_int("outlier_channels", 4, "input channels scaled by outlier_scale"),
          param_float("outlier_scale", 20.0, "scale of the outlier channels"),
          param_string("file", "", "safetensors file holding the weight (layer = 'safetensors')"),
          param_string("tensor", "", "tensor name in `file` ([out, in] 2-D)"),
      };
      i.slots = {{"compressor", "LayerCompressor", false, "the method that compresses the layer"}};
      i.metrics = {
          {"rel_error", Better::Lower, "||XW^T - XW_hat^T||^2 / ||XW^T||^2", 4},
          {"bits_per_weight", Better::Lower, "storage bits per weight (16 for dense)", 4},
          {"density", Better::None, "fraction of nonzero weights in the sparse/quantized part", 4},
          {"rank", Better::None, "rank of the low-rank part", 3},
          {"compress_s", Better::Lower, "seconds to compress the layer", 3},
      };
      return i;
    }();
    return info;
  }
  const SuiteInfo& info() const override { return static_info(); }

  nlohmann::json fingerprint(const RowSpec& row, RunContext&) override {
    const Params& p = row.suite_params;
    if (p.get_string("layer") == "synthetic")
      return {{"model", {{"name", fmt::format("synthetic {}x{}", p.get_int("out_features"), p.get_int("in_features"))}}},
              {"data", {{"calibration", "synthetic"}}}};
    auto file = check_file(p);
    return {{"model", {{"name", file + ":" + p.get_string("tensor")}, {"sha256", sha256_file(file)}}},
            {"data", {{"calibration", "synthetic"}}}};
  }

  Record run_row(const RowSpec& row, RunContext& ctx) override {
    const Params& p = row.suite_params;
    at::Generator gen = ctx.generator("layer_error.data");
    LayerProblem problem;
    at::Tensor X;
    {
      auto t = ctx.timer().scope("calibrate");
      auto m = ctx.memory().phase("calibrate");
      if (p.get_string("layer") == "synthetic") {
        SyntheticLayerOptions o;
        o.out_features = p.get_int("out_features");
        o.in_features = p.get_int("in_features");
        o.n_tokens = p.get_int("n_tokens");
        o.spectrum_decay = p.get_float("spectrum_decay");
        o.outlier_channels = p.get_int("outlier_channels");
        o.outlier_scale = p.get_float("outlier_scale");
        if (o.out_features <= 0 || o.in_features <= 0 || o.n_tokens <= 0)
          p.fail("in_features", "layer sizes and n_tokens must be positive");
        SyntheticLayer layer = make_synthetic_layer(o, gen);
        problem.name = "synthetic";
        problem.W = layer.W;
        X = layer.X;
      } else {
        auto file = check_file(p);
        SafetensorsFile st(file);
        const std::string& name = p.get_string("tensor");
        at::Tensor W = st.get(name).to(at::kFloat);
        if (W.dim() != 2)
          throw DataError(fmt::format("{}: tensor '{}' has {} dimensions; a linear weight [out, in] has 2", file, name,
                                      W.dim()));
        problem.name = name;
        problem.W = W.contiguous();
        X = make_correlated_inputs(p.get_int("n_tokens"), W.size(1), p.get_float("spectrum_decay"),
                                   p.get_int("outlier_channels"), p.get_float("outlier_scale"), gen);
      }
      problem.H = hessian_from_inputs(X);
      problem.n_samples = X.size(0);
    }
    problem.W = problem.W.to(ctx.device());
    problem.H = problem.H.to(ctx.device());
    X = X.to(ctx.device());

    CompressedLinear out;
    double compress_s = 0;
    if (const Component* c = row.first("compressor")) {
      auto method = Registry<LayerCompressor>::instance().create(c->method);
      method->configure(c->params);
      if (method->needs_inputs()) problem.X = X;
      auto m = ctx.memory().phase("compress");
      Stopwatch w;
      {
        auto t = ctx.timer().scope("compress");
        out = method->compress(problem, ctx);
      }
      compress_s = w.seconds();
    } else {
      out = CompressedLinear::from_dense(problem.W);
    }

    // Error from the compressed form's own forward pass, so a layer that stores one thing and
    // computes another is caught here.
    at::Tensor Y = at::matmul(X, problem.W.t());
    at::Tensor Yhat = out.forward(X);
    double num = (Y - Yhat).pow(2).sum().item<double>();
    double den = Y.pow(2).sum().item<double>();
    StorageStats s = out.stats();

    Record rec;
    rec.metrics["rel_error"] = den > 0 ? num / den : 0.0;
    rec.metrics["bits_per_weight"] = s.bits_per_weight();
    rec.metrics["density"] = static_cast<double>(s.nnz) / static_cast<double>(s.numel);
    rec.metrics["rank"] = static_cast<double>(s.rank);
    rec.metrics["compress_s"] = compress_s;
    rec.details["storage"] = s.to_json();
    rec.details["shape"] = {problem.W.size(0), problem.W.size(1)};
    return rec;
  }

 private:
  static std::string check_file(const Params& p) {
    const std::string& file = p.get_string("file");
    if (file.empty()) p.fail("file", "layer = 'safetensors' needs `file` (a .safetensors path) and `tensor`");
    if (p.get_string("tensor").empty()) p.fail("tensor", "layer = 'safetensors' needs the tensor name");
    return file;
  }
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_SUITE(repro::LayerErrorSuite);
