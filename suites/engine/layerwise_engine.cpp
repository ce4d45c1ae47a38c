#include "suites/engine/layerwise_engine.h"

#include <algorithm>
#include <functional>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/timing.h"
#include "methods/common/layer_error.h"
#include "suites/engine/hessian_accumulator.h"
#include "suites/engine/hessian_cache.h"

namespace repro {

namespace {

using Group = std::vector<std::string>;  // linears that read one input; keyed by the first

double tensor_mb(const at::Tensor& t) {
  return t.defined() ? static_cast<double>(t.numel() * t.element_size()) / (1024.0 * 1024.0) : 0.0;
}

double block_mb(DecoderBlock& block) {
  double mb = 0;
  for (at::Tensor* t : block.parameters()) mb += tensor_mb(*t);
  return mb;
}

// Runs `block` over every batch of `hidden` ([n, T, D] on the device). When `out` is defined, each
// batch's output is written to the same rows of `out`, which may be `hidden` itself (a batch's
// output depends on that batch alone, so the calibration activations stay one buffer); otherwise
// the block runs only for its input hooks.
void run_block(const DecoderBlock& block, const at::Tensor& hidden, const at::Tensor& positions, int64_t batch,
               const at::Tensor& out) {
  at::NoGradGuard no_grad;
  for (int64_t i = 0; i < hidden.size(0); i += batch) {
    const int64_t end = std::min(hidden.size(0), i + batch);
    at::Tensor y = block.forward(hidden.slice(0, i, end), positions);
    if (out.defined()) out.slice(0, i, end).copy_(y);
  }
}

// Keeps a seeded subset of the input rows (tokens) a layer group sees, for compressors that ask
// for samples (needs_inputs()). Batches arrive in order, so each keeps the chosen rows in range.
class InputSampler {
 public:
  // n_rows: tokens in the calibration set; at most max_rows of them are kept (all when fewer).
  InputSampler(int64_t n_rows, int64_t max_rows, at::Generator gen) {
    if (max_rows >= n_rows) {
      all_ = true;
      return;
    }
    at::Tensor perm = at::randperm(n_rows, gen, at::TensorOptions().dtype(at::kLong));
    at::Tensor pick = std::get<0>(perm.narrow(0, 0, max_rows).sort()).contiguous();
    chosen_.assign(pick.data_ptr<int64_t>(), pick.data_ptr<int64_t>() + pick.numel());
  }

  // x: [b, T, in] the next batch of inputs.
  void add(const at::Tensor& x) {
    at::Tensor rows = x.reshape({-1, x.size(-1)});
    const int64_t begin = offset_, end = offset_ + rows.size(0);
    offset_ = end;
    if (all_) {
      pieces_.push_back(rows.to(at::kFloat));
      return;
    }
    auto lo = std::lower_bound(chosen_.begin(), chosen_.end(), begin);
    auto hi = std::lower_bound(lo, chosen_.end(), end);
    if (lo == hi) return;
    std::vector<int64_t> local;
    for (auto it = lo; it != hi; ++it) local.push_back(*it - begin);
    at::Tensor idx = at::tensor(local, at::TensorOptions().dtype(at::kLong)).to(rows.device());
    pieces_.push_back(rows.index_select(0, idx).to(at::kFloat));
  }

  at::Tensor samples() const { return pieces_.empty() ? at::Tensor() : at::cat(pieces_, 0); }

 private:
  bool all_ = false;
  std::vector<int64_t> chosen_;  // sorted row indices
  int64_t offset_ = 0;
  std::vector<at::Tensor> pieces_;
};

// What one calibration pass over a block's input groups gives the compressor.
struct GroupInputs {
  CachedHessians hessians;            // group key -> H (when the compressor needs one)
  std::map<std::string, at::Tensor> samples;  // group key -> [rows, in] (needs_inputs())
};

// NonFiniteError naming `what` when `t` holds NaN or Inf: a row with a broken checkpoint or a
// diverged solver ends with a typed error record instead of numbers computed from NaNs.
void require_finite(const at::Tensor& t, const std::function<std::string()>& what) {
  if (!t.defined() || at::isfinite(t).all().item<bool>()) return;
  const int64_t bad = t.numel() - at::isfinite(t).sum().item<int64_t>();
  throw NonFiniteError(fmt::format("{}: {} of {} values are NaN or Inf", what(), bad, t.numel()));
}

LayerOutcome compress_linear(DecoderBlock& block, const std::string& name, const at::Tensor& H, const at::Tensor& X,
                             int64_t n_samples, LayerCompressor& compressor, RunContext& ctx) {
  Linear& lin = block.linear(name);
  LayerProblem p;
  p.name = block.linear_path(name);
  p.W = lin.weight.to(at::kFloat).contiguous();
  require_finite(p.W, [&] { return fmt::format("{}: the weight (before compression)", p.name); });
  require_finite(H, [&] { return fmt::format("{}: the calibration Hessian (the activations entering it overflowed)", p.name); });
  p.H = H;
  p.X = X;
  p.n_samples = n_samples;
  Stopwatch w;
  CompressedLinear c;
  {
    auto t = ctx.timer().scope("compress");
    c = compressor.compress(p, ctx);
  }
  LayerOutcome out;
  out.name = p.name;
  out.seconds = w.seconds();
  out.stats = c.stats();
  const at::Tensor W_hat = c.dense();
  require_finite(W_hat, [&] { return fmt::format("{}: the compressed weight (the solver diverged)", p.name); });
  if (H.defined()) out.rel_error = relative_error(p.W, W_hat, H);
  lin.compressed = std::make_shared<CompressedLinear>(std::move(c));
  lin.weight = at::Tensor();  // the compressed form replaces the dense weight
  return out;
}

}  // namespace

double EngineReport::bits_per_weight() const {
  double bits = 0, numel = 0;
  for (const auto& l : layers) bits += l.stats.bits, numel += static_cast<double>(l.stats.numel);
  return numel > 0 ? bits / numel : 0;
}

double EngineReport::params_kept() const {
  double kept = 0, numel = 0;
  for (const auto& l : layers) {
    numel += static_cast<double>(l.stats.numel);
    kept += static_cast<double>(l.stats.nnz);
    kept += static_cast<double>(l.stats.low_rank_params);
  }
  return numel > 0 ? kept / numel : 0;
}

nlohmann::json EngineReport::to_json() const {
  nlohmann::json layers_j = nlohmann::json::array();
  for (const auto& l : layers)
    layers_j.push_back({{"name", l.name}, {"rel_error", l.rel_error}, {"seconds", l.seconds},
                        {"bits_per_weight", l.stats.bits_per_weight()}, {"nnz", l.stats.nnz}, {"rank", l.stats.rank}});
  return {{"layers", layers_j},         {"calibrate_s", calibrate_s},       {"compress_s", compress_s},
          {"cache_hits", cache_hits},   {"cache_misses", cache_misses},     {"activations_mb", activations_mb},
          {"targets_mb", targets_mb},   {"inputs_mb", inputs_mb},           {"refine_s", refine_s},
          {"max_block_mb", max_block_mb}};
}

EngineReport compress_model_data_free(CausalLM& model, LayerCompressor& compressor, RunContext& ctx,
                                      BlockStream* stream, const BlockDone& on_block) {
  EngineReport report;
  const c10::ScalarType dtype = stream ? stream->dtype() : model.embed_tokens.scalar_type();
  const c10::Device home = stream ? c10::Device(at::kCPU) : model.embed_tokens.device();
  auto progress = ctx.progress("compress", model.num_layers());
  Stopwatch w;
  for (int64_t i = 0; i < model.num_layers(); ++i) {
    if (stream) stream->load_block(model, i);
    DecoderBlock& block = model.block(i);
    block.to(ctx.device(), dtype);
    report.max_block_mb = std::max(report.max_block_mb, block_mb(block));
    for (const auto& name : DecoderBlock::linear_names())
      report.layers.push_back(compress_linear(block, name, at::Tensor(), at::Tensor(), 0, compressor, ctx));
    if (stream)
      stream->block_done(model, i);
    else
      block.to(home, dtype);
    progress->advance();
    if (on_block) on_block(i, report);
  }
  report.compress_s = w.seconds();
  return report;
}

EngineReport compress_model(CausalLM& model, const at::Tensor& calibration, LayerCompressor& compressor,
                            const EngineOptions& o, RunContext& ctx, BlockRefiner* refiner) {
  const bool need_h = compressor.needs_hessian();
  const bool need_x = compressor.needs_inputs();
  if (!need_h && !need_x && !refiner) return compress_model_data_free(model, compressor, ctx, o.stream, o.on_block);
  if (o.order != "parallel" && o.order != "sequential")
    throw ConfigError(fmt::format("engine order '{}' is not parallel or sequential", o.order));
  REPRO_ASSERT(calibration.dim() == 2, "calibration windows must be [n, T]");
  at::NoGradGuard no_grad;
  // Hessians (and refiner targets) from full-precision activations, as QuaRot and SpinQuant run
  // GPTQ before installing their activation quantizers; act_quant's calib_quant opts out.
  QuantSimPause pause_fake_quant(model);
  EngineReport report;
  const c10::ScalarType dtype = o.stream ? o.stream->dtype() : model.embed_tokens.scalar_type();
  const c10::Device home = o.stream ? c10::Device(at::kCPU) : model.embed_tokens.device();
  const int64_t n = calibration.size(0), T = calibration.size(1);
  const at::Tensor positions = at::arange(T, at::TensorOptions().dtype(at::kLong).device(ctx.device()));
  HessianCache cache(o.hessian_cache == "off" ? std::filesystem::path() : o.cache_dir);

  at::Tensor hidden;
  {
    auto t = ctx.timer().scope("calibrate");
    hidden = (o.stream ? o.stream->embed(model, calibration) : model.embed(calibration.to(home))).to(ctx.device());
  }
  report.activations_mb = tensor_mb(hidden);  // one buffer: each block's outputs replace its inputs
  // The dense block's outputs on the current inputs: the refiner's targets (one more buffer).
  at::Tensor targets;
  if (refiner) targets = at::empty_like(hidden);
  report.targets_mb = tensor_mb(targets);

  const auto& groups = DecoderBlock::input_groups();
  auto progress = ctx.progress("compress", model.num_layers());
  for (int64_t i = 0; i < model.num_layers(); ++i) {
    if (o.stream) o.stream->load_block(model, i);
    DecoderBlock& block = model.block(i);
    block.to(ctx.device(), dtype);
    report.max_block_mb = std::max(report.max_block_mb, block_mb(block));
    const bool cacheable = need_h && (o.hessian_cache == "all" || (o.hessian_cache == "first" && i == 0));

    // One calibration pass over the groups in `todo` (Hessians from the cache when possible), also
    // writing the block's outputs to `out` when it is defined (the dense targets).
    auto calibrate = [&](const std::vector<const Group*>& todo, const std::string& tag, const at::Tensor& out) {
      GroupInputs in;
      bool have_h = !need_h;
      std::string key;
      if (cacheable) {
        // Block 0 under the first group sees only the (transformed) dense model: every row with the
        // same transforms shares it, whatever its compressor.
        const bool shared = i == 0 && (tag == "all" || tag == groups.front().front());
        key = HessianCache::make_key({"engine-hessians-v2", o.model_fingerprint, o.calibration_fingerprint,
                                      "transforms:" + o.transforms_spec, o.order, std::to_string(n),
                                      std::to_string(T), std::to_string(i), tag,
                                      shared ? "upstream:none" : "upstream:" + o.upstream_spec});
        if (auto hit = cache.load(key)) {
          ++report.cache_hits;
          ctx.count("hessian_cache_hits");
          for (auto& [g, H] : hit->H) H = H.to(ctx.device());
          in.hessians = std::move(*hit);
          have_h = true;
        }
      }
      if (have_h && !need_x && !out.defined()) return in;
      if (!have_h) {
        ++report.cache_misses;
        ctx.count("hessian_cache_misses");
      }
      std::map<std::string, HessianAccumulator> acc;
      std::map<std::string, InputSampler> samplers;
      for (const Group* g : todo) {
        Linear& first = block.linear(g->front());
        HessianAccumulator* a = nullptr;
        InputSampler* s = nullptr;
        if (!have_h) a = &acc.emplace(g->front(), HessianAccumulator(first.in_features(), ctx.device())).first->second;
        if (need_x)
          s = &samplers.emplace(g->front(), InputSampler(n * T, o.input_samples, ctx.generator("engine.inputs")))
                   .first->second;
        first.on_input = [a, s](const at::Tensor& x) {
          if (a) a->add(x);
          if (s) s->add(x);
        };
      }
      {
        auto t = ctx.timer().scope("calibrate");
        run_block(block, hidden, positions, o.batch_size, out);
      }
      for (const Group* g : todo) block.linear(g->front()).on_input = nullptr;
      if (!have_h) {
        for (auto& [g, a] : acc) {
          in.hessians.H[g] = a.H();
          in.hessians.n_samples = a.n_samples();
        }
        if (cacheable) cache.store(key, in.hessians);
      }
      for (auto& [g, s] : samplers) {
        in.samples[g] = s.samples();
        report.inputs_mb = std::max(report.inputs_mb, tensor_mb(in.samples[g]));
      }
      return in;
    };

    auto compress_group = [&](const Group& g, const GroupInputs& in) {
      at::Tensor H, X;
      if (need_h) H = in.hessians.H.at(g.front());
      if (need_x) X = in.samples.at(g.front());
      for (const auto& name : g) {
        if (o.keep_hessians && H.defined()) report.hessians[block.linear_path(name)] = H.to(at::kCPU);
        report.layers.push_back(compress_linear(block, name, H, X, in.hessians.n_samples, compressor, ctx));
      }
    };

    if (o.order == "parallel") {
      std::vector<const Group*> all;
      for (const auto& g : groups) all.push_back(&g);
      GroupInputs in = calibrate(all, "all", targets);
      for (const auto& g : groups) compress_group(g, in);
    } else {
      for (size_t k = 0; k < groups.size(); ++k)  // the dense targets come with the first pass
        compress_group(groups[k], calibrate({&groups[k]}, groups[k].front(), k == 0 ? targets : at::Tensor()));
    }

    if (refiner) {
      auto t = ctx.timer().scope("refine");
      BlockIO io{hidden, targets, positions, o.batch_size};
      at::AutoGradMode grad(true);  // refiners train; the rest of the engine runs without autograd
      refiner->refine(block, io, ctx);
    }

    // The next block calibrates on what this compressed (and refined) block produces.
    if (i + 1 < model.num_layers()) {
      auto t = ctx.timer().scope("calibrate");
      run_block(block, hidden, positions, o.batch_size, hidden);
      require_finite(hidden, [&] { return fmt::format("model.layers.{}: the calibration activations it outputs", i); });
    }
    if (o.stream)
      o.stream->block_done(model, i);
    else
      block.to(home, dtype);
    progress->advance();
    progress->note(fmt::format("block {} done", i));
    if (o.on_block) o.on_block(i, report);
  }
  progress->finish();
  for (const auto& [phase, s] : ctx.timer().seconds()) {
    if (phase == "calibrate") report.calibrate_s = s;
    if (phase == "compress") report.compress_s = s;
    if (phase == "refine") report.refine_s = s;
  }
  return report;
}

}  // namespace repro
