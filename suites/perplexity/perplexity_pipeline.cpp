#include "suites/perplexity/perplexity_pipeline.h"

#include <cmath>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "core/config.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/paths.h"
#include "core/registry.h"
#include "core/strings.h"
#include "datasets/calibration.h"
#include "datasets/text_datasets.h"
#include "methods/api/block_refiner.h"
#include "methods/api/model_transform.h"
#include "models/llama_io.h"
#include "suites/eval/model_identity.h"

namespace repro {

namespace fs = std::filesystem;

namespace {

// Why perplexity came out NaN/Inf: the first parameter (or compressed weight) holding NaN/Inf, or
// the activations when every weight is finite (an overflow, e.g. fp16 without enough headroom).
std::string non_finite_source(CausalLM& model, const std::string& dataset) {
  for (auto& p : model.named_parameters()) {
    at::Tensor t = p.tensor && p.tensor->defined() ? *p.tensor
                   : p.linear && p.linear->compressed ? p.linear->compressed->dense()
                                                      : at::Tensor();
    if (t.defined() && !at::isfinite(t).all().item<bool>())
      return fmt::format("{} perplexity is not finite: {} holds NaN/Inf values", dataset, p.name);
  }
  return fmt::format("{} perplexity is not finite although every weight is: the activations overflowed (try --dtype float32)",
                     dataset);
}

std::string tensor_sha256(const at::Tensor& t) {
  at::Tensor c = t.contiguous().to(at::kCPU);
  return sha256_hex(std::string_view(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size()));
}

}  // namespace

fs::path perplexity_data_dir(const RunContext& ctx) {
  return ctx.options().data_dir.empty() ? project_root() / "data" : ctx.options().data_dir;
}

LoadedLM load_lm(const std::string& spec, RunContext& ctx) { return load_lm_identified(model_identity(spec), ctx); }

LoadedLM load_lm_identified(const nlohmann::json& identity, RunContext& ctx) {
  LoadedLM lm;
  lm.identity = identity;
  const fs::path dir = lm.dir();
  {
    auto t = ctx.timer().scope("load");
    auto m = ctx.memory().phase("load");
    lm.tokenizer = Tokenizer::load(dir);
    lm.model = load_causal_lm(dir, ctx.dtype(), at::kCPU);
  }
  if (!ctx.options().cache_dir.empty()) lm.token_cache = std::make_unique<TokenCache>(ctx.options().cache_dir / "tokens");
  lm.tokenize.tokenizer_fingerprint = lm.identity["sha256"].get<std::string>();
  lm.tokenize.cache = lm.token_cache.get();
  return lm;
}

bool row_needs_calibration(const RowSpec& row) {
  if (!row.slot("transforms").empty() || row.first("refiner")) return true;
  const Component* c = row.first("compressor");
  if (!c) return false;
  auto m = Registry<LayerCompressor>::instance().create(c->method);
  m->configure(c->params);
  return m->needs_hessian() || m->needs_inputs();
}

std::vector<ParamSpec> calibration_params() {
  return {
      param_string("calibration", "embedded", "calibration dataset (its training split)"),
      param_int("nsamples", 128, "calibration sequences").at_least(1),
      param_int("calib_seqlen", 0, "calibration sequence length (0: seqlen)").at_least(0),
      param_string("order", "parallel", "calibration order within a block", {"parallel", "sequential"}),
      param_int("calib_batch", 8, "calibration sequences per block forward").at_least(1),
      param_string("hessian_cache", "all", "reuse calibration Hessians across rows", {"all", "first", "off"}),
      param_int("input_samples", 4096, "input rows (tokens) per layer for compressors that ask for samples")
          .at_least(1),
  };
}

RowCompression compress_row(LoadedLM& lm, const RowSpec& row, RunContext& ctx, const RowCompressionHooks& hooks) {
  const Params& p = row.suite_params;
  CausalLM& model = *lm.model;
  RowCompression out;
  const std::vector<const Component*> transforms = row.slot("transforms");
  const Component* refiner_c = row.first("refiner");
  if (refiner_c && !row.first("compressor"))
    throw ConfigError(fmt::format("{}row '{}': a refiner needs a compressor", loc_prefix(Value().set_loc(row.loc)),
                                  row.display));
  at::Tensor calib;  // calibration windows, drawn when a stage first needs them
  auto calibration = [&]() -> const at::Tensor& {
    if (!calib.defined()) {
      out.calibration_samples = p.get_int("nsamples");
      out.calibration_seqlen = p.get_int("calib_seqlen") > 0 ? p.get_int("calib_seqlen") : p.get_int("seqlen");
      auto t = ctx.timer().scope("calibrate");
      calib = calibration_windows(p.get_string("calibration"), perplexity_data_dir(ctx), *lm.tokenizer,
                                  out.calibration_samples, out.calibration_seqlen, ctx.generator("calibration"),
                                  lm.tokenize);
      out.calibrated = true;
      out.calibration_tokens_sha256 = tensor_sha256(calib);
    }
    return calib;
  };
  // Stage 1: model transforms, in order, before anything is calibrated.
  if (!transforms.empty()) {
    std::vector<std::string> specs;
    for (const Component* tc : transforms) {
      auto tr = Registry<ModelTransform>::instance().create(tc->method);
      tr->configure(tc->params);
      auto t = ctx.timer().scope("transform");
      tr->apply(model, calibration(), ctx);
      specs.push_back(tc->canonical() + "@" + tc->info->version);
    }
    out.transforms_spec = join(specs, "+");
  }
  if (hooks.after_transforms) hooks.after_transforms(model);
  const Component* c = row.first("compressor");
  if (!c) return out;
  auto method = Registry<LayerCompressor>::instance().create(c->method);
  method->configure(c->params);
  if (hooks.before_compress) hooks.before_compress(*method, model);
  std::unique_ptr<BlockRefiner> refiner;
  if (refiner_c) {
    refiner = Registry<BlockRefiner>::instance().create(refiner_c->method);
    refiner->configure(refiner_c->params);
  }
  out.compressed = true;
  if (method->needs_hessian() || method->needs_inputs() || refiner) {
    EngineOptions eo;
    eo.order = p.get_string("order");
    eo.batch_size = p.get_int("calib_batch");
    eo.hessian_cache = p.get_string("hessian_cache");
    eo.input_samples = p.get_int("input_samples");
    if (!ctx.options().cache_dir.empty()) eo.cache_dir = ctx.options().cache_dir / "hessians";
    eo.model_fingerprint = lm.identity["sha256"].get<std::string>() + "/" + c10::toString(ctx.dtype());
    eo.calibration_fingerprint = tensor_sha256(calibration());
    eo.upstream_spec = c->canonical() + "@" + c->info->version;
    if (refiner_c) eo.upstream_spec += "+" + refiner_c->canonical() + "@" + refiner_c->info->version;
    eo.transforms_spec = out.transforms_spec;
    eo.on_block = hooks.on_block;
    auto m = ctx.memory().phase("compress");
    out.report = compress_model(model, calibration(), *method, eo, ctx, refiner.get());
  } else {
    auto m = ctx.memory().phase("compress");
    out.report = compress_model_data_free(model, *method, ctx, /*stream=*/nullptr, hooks.on_block);
  }
  return out;
}

PerplexityResult dataset_perplexity(CausalLM& model, const Tokenizer& tokenizer, const TokenizeOptions& tokenize,
                                    const std::string& dataset, int64_t seqlen, int64_t max_windows,
                                    int64_t eval_batch, RunContext& ctx) {
  const auto& info = text_dataset_info(dataset);
  at::Tensor windows;
  {
    auto t = ctx.timer().scope("tokenize");
    TextSplit split = load_text_split(dataset, perplexity_data_dir(ctx), info.eval_split);
    std::optional<int64_t> max_w = info.eval_max_windows;
    if (max_windows > 0) max_w = max_windows;
    windows = eval_windows(tokenize_split(split, tokenizer, tokenize), seqlen, max_w);
  }
  PerplexityResult r;
  {
    auto t = ctx.timer().scope("eval");
    auto m = ctx.memory().phase("eval");
    r = evaluate_perplexity(model, windows, eval_batch, ctx, dataset + " ppl");
  }
  if (!std::isfinite(r.ppl)) throw NonFiniteError(non_finite_source(model, dataset));
  return r;
}

}  // namespace repro
