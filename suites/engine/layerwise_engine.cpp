#include "suites/engine/layerwise_engine.h"

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

// Linears that read the same input share one Hessian; the group is named after its first member.
struct Group {
  std::string key;                  // "q_proj"
  std::vector<std::string> linears;  // {"q_proj", "k_proj", "v_proj"}
};
const std::vector<Group>& groups() {
  static const std::vector<Group> g = {{"q_proj", {"q_proj", "k_proj", "v_proj"}},
                                       {"o_proj", {"o_proj"}},
                                       {"gate_proj", {"gate_proj", "up_proj"}},
                                       {"down_proj", {"down_proj"}}};
  return g;
}

double tensor_mb(const at::Tensor& t) {
  return t.defined() ? static_cast<double>(t.numel() * t.element_size()) / (1024.0 * 1024.0) : 0.0;
}

double block_mb(DecoderBlock& block) {
  double mb = 0;
  for (at::Tensor* t : block.parameters()) mb += tensor_mb(*t);
  return mb;
}

// Runs `block` over every batch of `hidden` ([n, T, D] on the device). With `in_place`, each
// batch's output overwrites its input (a batch's output depends on that batch alone), so the
// calibration activations stay one buffer; otherwise the block runs only for its input hooks.
void run_block(const DecoderBlock& block, at::Tensor& hidden, const at::Tensor& positions, int64_t batch,
               bool in_place) {
  at::NoGradGuard no_grad;
  for (int64_t i = 0; i < hidden.size(0); i += batch) {
    at::Tensor x = hidden.slice(0, i, std::min(hidden.size(0), i + batch));
    at::Tensor y = block.forward(x, positions);
    if (in_place) x.copy_(y);
  }
}

LayerOutcome compress_linear(DecoderBlock& block, const std::string& name, const at::Tensor& H, int64_t n_samples,
                             LayerCompressor& compressor, RunContext& ctx) {
  Linear& lin = block.linear(name);
  LayerProblem p;
  p.name = block.linear_path(name);
  p.W = lin.weight.to(at::kFloat).contiguous();
  p.H = H;
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
  if (H.defined()) out.rel_error = relative_error(p.W, c.dense(), H);
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
          {"max_block_mb", max_block_mb}};
}

EngineReport compress_model_data_free(CausalLM& model, LayerCompressor& compressor, RunContext& ctx) {
  EngineReport report;
  const c10::ScalarType dtype = model.embed_tokens.scalar_type();
  const c10::Device home = model.embed_tokens.device();
  auto progress = ctx.progress("compress", model.num_layers());
  Stopwatch w;
  for (int64_t i = 0; i < model.num_layers(); ++i) {
    DecoderBlock& block = model.block(i);
    block.to(ctx.device(), dtype);
    report.max_block_mb = std::max(report.max_block_mb, block_mb(block));
    for (const auto& name : DecoderBlock::linear_names())
      report.layers.push_back(compress_linear(block, name, at::Tensor(), 0, compressor, ctx));
    block.to(home, dtype);
    progress->advance();
  }
  report.compress_s = w.seconds();
  return report;
}

EngineReport compress_model(CausalLM& model, const at::Tensor& calibration, LayerCompressor& compressor,
                            const EngineOptions& o, RunContext& ctx) {
  if (!compressor.needs_hessian()) return compress_model_data_free(model, compressor, ctx);
  if (o.order != "parallel" && o.order != "sequential")
    throw ConfigError(fmt::format("engine order '{}' is not parallel or sequential", o.order));
  REPRO_ASSERT(calibration.dim() == 2, "calibration windows must be [n, T]");
  at::NoGradGuard no_grad;
  EngineReport report;
  const c10::ScalarType dtype = model.embed_tokens.scalar_type();
  const c10::Device home = model.embed_tokens.device();
  const int64_t n = calibration.size(0), T = calibration.size(1);
  const at::Tensor positions = at::arange(T, at::TensorOptions().dtype(at::kLong).device(ctx.device()));
  HessianCache cache(o.hessian_cache == "off" ? std::filesystem::path() : o.cache_dir);

  at::Tensor hidden;
  {
    auto t = ctx.timer().scope("calibrate");
    hidden = model.embed(calibration.to(home)).to(ctx.device());
  }
  report.activations_mb = tensor_mb(hidden);  // one buffer: each block's outputs replace its inputs

  auto progress = ctx.progress("compress", model.num_layers());
  for (int64_t i = 0; i < model.num_layers(); ++i) {
    DecoderBlock& block = model.block(i);
    block.to(ctx.device(), dtype);
    report.max_block_mb = std::max(report.max_block_mb, block_mb(block));
    const bool cacheable = o.hessian_cache == "all" || (o.hessian_cache == "first" && i == 0);

    // The Hessians of the groups in `todo`, from the cache or from one pass of the block.
    auto hessians_for = [&](const std::vector<const Group*>& todo, const std::string& tag) {
      const bool shared = (i == 0 && tag == "all") || (i == 0 && tag == "q_proj");
      std::string key = HessianCache::make_key({"engine-hessians-v1", o.model_fingerprint, o.calibration_fingerprint,
                                                o.order, std::to_string(n), std::to_string(T), std::to_string(i), tag,
                                                shared ? "upstream:none" : "upstream:" + o.upstream_spec});
      if (cacheable) {
        if (auto hit = cache.load(key)) {
          ++report.cache_hits;
          ctx.count("hessian_cache_hits");
          for (auto& [g, H] : hit->H) H = H.to(ctx.device());
          return *hit;
        }
      }
      ++report.cache_misses;
      ctx.count("hessian_cache_misses");
      std::map<std::string, HessianAccumulator> acc;
      for (const Group* g : todo) {
        Linear& first = block.linear(g->linears.front());
        auto& a = acc.emplace(g->key, HessianAccumulator(first.in_features(), ctx.device())).first->second;
        first.on_input = [&a](const at::Tensor& x) { a.add(x); };
      }
      {
        auto t = ctx.timer().scope("calibrate");
        run_block(block, hidden, positions, o.batch_size, /*in_place=*/false);
      }
      for (const Group* g : todo) block.linear(g->linears.front()).on_input = nullptr;
      CachedHessians out;
      for (auto& [g, a] : acc) {
        out.H[g] = a.H();
        out.n_samples = a.n_samples();
      }
      if (cacheable) cache.store(key, out);
      return out;
    };

    auto compress_group = [&](const Group& g, const CachedHessians& h) {
      const at::Tensor& H = h.H.at(g.key);
      for (const auto& name : g.linears) {
        if (o.keep_hessians) report.hessians[block.linear_path(name)] = H.to(at::kCPU);
        report.layers.push_back(compress_linear(block, name, H, h.n_samples, compressor, ctx));
      }
    };

    if (o.order == "parallel") {
      std::vector<const Group*> all;
      for (const auto& g : groups()) all.push_back(&g);
      CachedHessians h = hessians_for(all, "all");
      for (const auto& g : groups()) compress_group(g, h);
    } else {
      for (const auto& g : groups()) compress_group(g, hessians_for({&g}, g.key));
    }

    // The next block calibrates on what this compressed block produces.
    if (i + 1 < model.num_layers()) {
      auto t = ctx.timer().scope("calibrate");
      run_block(block, hidden, positions, o.batch_size, /*in_place=*/true);
    }
    block.to(home, dtype);
    progress->advance();
    progress->note(fmt::format("block {} done", i));
  }
  progress->finish();
  for (const auto& [phase, s] : ctx.timer().seconds()) {
    if (phase == "calibrate") report.calibrate_s = s;
    if (phase == "compress") report.compress_s = s;
  }
  return report;
}

}  // namespace repro
