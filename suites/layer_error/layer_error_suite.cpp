// The layer_error suite: the layer-wise objective tr((W - W_hat) H (W - W_hat)^T) of one compressed
// linear layer, its relative form ||X W^T - X W_hat^T||^2 / ||X W^T||^2, and its storage statistics.
// The layer is synthetic (correlated inputs with outlier channels, from the row's seed), a weight read
// from a .safetensors file with synthetic inputs, or a weight AND its Hessian read from the file
// (`hessian_tensor`): then a user's own layer runs through any compressor exactly as given.

#include <fmt/format.h>
#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/run_context.h"
#include "core/suite_registry.h"
#include "core/table_spec.h"
#include "methods/api/layer_compressor.h"
#include "models/safetensors.h"
#include "suites/synthetic_layer.h"

namespace repro {
namespace {

// The layer objective of W_hat against W and its reference value tr(W H W^T) (objective / reference
// is rel_error).
struct LayerObjective {
  double objective = 0;
  double reference = 0;
};

// Both from the compressed form's own forward pass, so a layer that stores one thing and computes
// another is caught here.
// W: [out, in] fp32, X: [n, in] fp32, same device; H = (2/n) X^T X is never formed.
LayerObjective objective_from_inputs(const at::Tensor& W, const CompressedLinear& out, const at::Tensor& X) {
  at::Tensor Y = at::matmul(X, W.t());
  at::Tensor E = (Y - out.forward(X)).to(at::kDouble);
  const double scale = 2.0 / static_cast<double>(X.size(0));
  return {scale * E.pow(2).sum().item<double>(), scale * Y.to(at::kDouble).pow(2).sum().item<double>()};
}

// W: [out, in] fp32, H: [in, in] fp32, same device. forward(I) = W_hat^T; the traces in fp64.
LayerObjective objective_from_hessian(const at::Tensor& W, const CompressedLinear& out, const at::Tensor& H) {
  at::Tensor I = at::eye(W.size(1), W.options());
  at::Tensor Wt = W.t().to(at::kDouble);                 // [in, out]
  at::Tensor Dt = Wt - out.forward(I).to(at::kDouble);   // (W - W_hat)^T
  at::Tensor Hd = H.to(at::kDouble);
  return {(Dt * at::matmul(Hd, Dt)).sum().item<double>(), (Wt * at::matmul(Hd, Wt)).sum().item<double>()};
}

// W_hat = base + U V and its parts, on the CPU, for checks outside ReproBench (pattern, rank, objective).
void save_layer(const std::string& path, const CompressedLinear& out) {
  std::vector<std::pair<std::string, at::Tensor>> tensors = {{"weight_hat", out.dense().cpu()},
                                                             {"base", out.base().cpu()}};
  if (out.has_low_rank()) {
    tensors.emplace_back("U", out.U().cpu());
    tensors.emplace_back("V", out.V().cpu());
  }
  save_safetensors(path, tensors);
}

// The weight `name` of `st` as [out, in] fp32 (DataError naming the file and tensor otherwise).
at::Tensor read_weight(const SafetensorsFile& st, const std::string& file, const std::string& name) {
  at::Tensor W = st.get(name).to(at::kFloat);
  if (W.dim() != 2)
    throw DataError(fmt::format("{}: tensor '{}' has {} dimensions; a linear weight [out, in] has 2", file, name,
                                W.dim()));
  if (!at::isfinite(W).all().item<bool>())
    throw DataError(fmt::format("{}: tensor '{}' (the weight) has non-finite entries", file, name));
  return W.contiguous();
}

// The Hessian `name` of `st` as [in, in] fp32: square, matching the weight's columns, finite,
// symmetric up to rounding (|H - H^T| <= 1e-5 max|H|; then symmetrized), with a non-negative
// diagonal, as H = (2/N) X^T X is. Undamped: each method damps it with its own percdamp.
at::Tensor read_hessian(const SafetensorsFile& st, const std::string& file, const std::string& name,
                        int64_t in_features) {
  at::Tensor H = st.get(name).to(at::kFloat);
  if (H.dim() != 2 || H.size(0) != H.size(1) || H.size(0) != in_features)
    throw DataError(fmt::format("{}: Hessian tensor '{}' has shape {}; expected [{}, {}] (the weight's in_features, "
                                "twice)",
                                file, name, c10::str(H.sizes()), in_features, in_features));
  if (!at::isfinite(H).all().item<bool>())
    throw DataError(fmt::format("{}: Hessian tensor '{}' has non-finite entries", file, name));
  const double scale = H.abs().max().item<double>();
  const double asym = (H - H.t()).abs().max().item<double>();
  if (asym > 1e-5 * scale)
    throw DataError(fmt::format("{}: Hessian tensor '{}' is not symmetric (max |H - H^T| = {:.3g}, max |H| = {:.3g}); "
                                "store H = (2/N) X^T X itself",
                                file, name, asym, scale));
  const double min_diag = H.diagonal().min().item<double>();
  if (min_diag < 0)
    throw DataError(fmt::format("{}: Hessian tensor '{}' has a negative diagonal entry ({:.3g}); H = (2/N) X^T X "
                                "has none",
                                file, name, min_diag));
  return ((H + H.t()) * 0.5).contiguous();
}

class LayerErrorSuite : public Suite {
 public:
  static const SuiteInfo& static_info() {
    static const SuiteInfo info = [] {
      SuiteInfo i;
      i.name = "layer_error";
      i.family = Suite::kFamily;
      i.summary = "relative layer-wise reconstruction error and storage of one compressed linear layer";
      i.version = "2";  // 2: the objective metric and hessian_tensor
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
          param_string("hessian_tensor", "",
                       "tensor name in `file` holding H = (2/N) X^T X ([in, in], symmetric, undamped); "
                       "empty: H from synthetic inputs"),
          param_string("save_to", "",
                       "write the compressed layer here (.safetensors: weight_hat, base, and U, V when low-rank); "
                       "a cached row writes nothing (--force)"),
      };
      i.slots = {{"compressor", "LayerCompressor", false, "the method that compresses the layer"}};
      i.metrics = {
          {"rel_error", Better::Lower, "||XW^T - XW_hat^T||^2 / ||XW^T||^2 = tr(dW H dW^T) / tr(W H W^T)", 4},
          {"objective", Better::Lower, "tr((W - W_hat) H (W - W_hat)^T), H undamped", 6},
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
    const std::string& h = p.get_string("hessian_tensor");
    return {{"model", {{"name", file + ":" + p.get_string("tensor")}, {"sha256", sha256_file(file)}}},
            {"data", {{"calibration", h.empty() ? std::string("synthetic") : file + ":" + h}}}};
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
        problem.name = p.get_string("tensor");
        problem.W = read_weight(st, file, problem.name);
        const std::string& h = p.get_string("hessian_tensor");
        if (h.empty()) {
          X = make_correlated_inputs(p.get_int("n_tokens"), problem.W.size(1), p.get_float("spectrum_decay"),
                                     p.get_int("outlier_channels"), p.get_float("outlier_scale"), gen);
        } else {
          problem.H = read_hessian(st, file, h, problem.W.size(1));
          problem.n_samples = p.get_int("n_tokens");
        }
      }
      if (X.defined()) {
        problem.H = hessian_from_inputs(X);
        problem.n_samples = X.size(0);
      }
    }
    problem.W = problem.W.to(ctx.device());
    problem.H = problem.H.to(ctx.device());
    if (X.defined()) X = X.to(ctx.device());

    CompressedLinear out;
    double compress_s = 0;
    if (const Component* c = row.first("compressor")) {
      auto method = Registry<LayerCompressor>::instance().create(c->method);
      method->configure(c->params);
      if (method->needs_inputs()) {
        if (!X.defined())
          throw ConfigError(fmt::format("compressor '{}' needs input samples, but a layer read with "
                                        "`hessian_tensor` has only H; drop hessian_tensor to use synthetic "
                                        "inputs, or choose a method that needs only H",
                                        c->method));
        problem.X = X;
      }
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

    LayerObjective e = X.defined() ? objective_from_inputs(problem.W, out, X)
                                   : objective_from_hessian(problem.W, out, problem.H);

    if (const std::string& path = p.get_string("save_to"); !path.empty()) save_layer(path, out);

    StorageStats s = out.stats();
    Record rec;
    rec.metrics["rel_error"] = e.reference > 0 ? e.objective / e.reference : 0.0;
    rec.metrics["objective"] = e.objective;
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
    if (!p.get_string("hessian_tensor").empty() && p.get_string("hessian_tensor") == p.get_string("tensor"))
      p.fail("hessian_tensor", "names the weight itself; give the [in, in] Hessian's tensor name");
    return file;
  }
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_SUITE(repro::LayerErrorSuite);
