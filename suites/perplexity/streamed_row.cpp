#include "suites/perplexity/streamed_row.h"

#include <cmath>

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/memory.h"
#include "core/paths.h"
#include "core/timing.h"
#include "datasets/calibration.h"
#include "datasets/text_datasets.h"
#include "datasets/token_windows.h"
#include "methods/api/block_refiner.h"
#include "methods/api/layer_compressor.h"
#include "models/checkpoint.h"
#include "models/llama_io.h"
#include "models/streamed_model.h"
#include "models/tokenizer.h"
#include "suites/engine/layerwise_engine.h"
#include "suites/eval/perplexity.h"
#include "suites/perplexity/perplexity_pipeline.h"

namespace repro {
namespace fs = std::filesystem;

namespace {

std::unique_ptr<LayerCompressor> make_compressor(const Component* c) {
  if (!c) return nullptr;
  auto m = Registry<LayerCompressor>::instance().create(c->method);
  m->configure(c->params);
  return m;
}

// The eval windows and their hidden states, carried through the model beside the engine's
// calibration windows.
class StreamedEval final : public BlockStream {
 public:
  StreamedEval(StreamedModel& sm, std::vector<at::Tensor> windows, int64_t batch, RunContext& ctx)
      : sm_(sm), windows_(std::move(windows)), batch_(batch), ctx_(ctx) {}

  c10::ScalarType dtype() const override { return sm_.dtype(); }

  // Embeds the calibration tokens and every eval window in one visit of the embeddings.
  at::Tensor embed(CausalLM& model, const at::Tensor& tokens) override {
    {
      auto t = ctx_.timer().scope("read");
      sm_.load_embeddings();
    }
    at::Tensor h = tokens.defined() ? model.embed(tokens) : at::Tensor();
    for (const at::Tensor& w : windows_) hidden_.push_back(model.embed(w));
    sm_.release_embeddings();
    return h;
  }

  void load_block(CausalLM&, int64_t i) override {
    auto t = ctx_.timer().scope("read");  // the shards through the mapping, converted to the run's dtype
    sm_.load_block(i);
  }

  void block_done(CausalLM& model, int64_t i) override {
    auto t = ctx_.timer().scope("eval");
    at::NoGradGuard no_grad;
    DecoderBlock& block = model.block(i);
    for (at::Tensor& h : hidden_) {
      const at::Tensor positions =
          at::arange(h.size(1), at::TensorOptions().dtype(at::kLong).device(ctx_.device()));
      for (int64_t b = 0; b < h.size(0); b += batch_) {
        const int64_t e = std::min(h.size(0), b + batch_);
        h.slice(0, b, e).copy_(block.forward(h.slice(0, b, e).to(ctx_.device()), positions));
      }
    }
    sm_.release_block(i);
  }

  // Perplexity of each dataset from the final hidden states (loads and releases the head).
  std::vector<PerplexityResult> finish(CausalLM& model) {
    at::NoGradGuard no_grad;
    sm_.load_head();
    model.norm = model.norm.to(ctx_.device());
    model.lm_head.weight = model.lm_head.weight.to(ctx_.device());
    std::vector<PerplexityResult> out;
    for (size_t k = 0; k < hidden_.size(); ++k) {
      const at::Tensor& h = hidden_[k];
      double sum = 0;
      for (int64_t b = 0; b < h.size(0); b += batch_) {
        const int64_t e = std::min(h.size(0), b + batch_);
        sum += window_nll_sum(model.head(h.slice(0, b, e).to(ctx_.device())), windows_[k].slice(0, b, e).to(ctx_.device()));
      }
      PerplexityResult r;
      r.windows = h.size(0);
      r.tokens = h.size(0) * h.size(1);
      r.mean_nll = sum / static_cast<double>(std::max<int64_t>(1, r.windows));
      r.ppl = std::exp(r.mean_nll);
      out.push_back(r);
    }
    sm_.release_head();
    hidden_.clear();
    return out;
  }

  double eval_activations_mb() const {
    double mb = 0;
    for (const at::Tensor& h : hidden_) mb += static_cast<double>(h.numel() * h.element_size()) / (1024.0 * 1024.0);
    return mb;
  }

 private:
  StreamedModel& sm_;
  std::vector<at::Tensor> windows_;  // [n, T] int64 per dataset
  std::vector<at::Tensor> hidden_;   // [n, T, D] per dataset, CPU
  int64_t batch_;
  RunContext& ctx_;
};

}  // namespace

namespace {

// Whether `dir` holds weights (a folder with only config.json can still be planned: --dry-run).
bool has_weights(const fs::path& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".safetensors") return true;
  return false;
}

}  // namespace

bool row_streams(const std::string& mode, const fs::path& model_dir, c10::ScalarType dtype) {
  if (mode == "on") return true;
  if (mode == "off") return false;
  const double params = static_cast<double>(CausalLM(LlamaConfig::load(model_dir / "config.json")).num_parameters());
  const double bytes = params * static_cast<double>(c10::elementSize(dtype));
  const double mem = host_total_mb();
  return mem > 0 && bytes / (1024.0 * 1024.0) > 0.4 * mem;
}

RunPlan perplexity_run_plan(const RowSpec& row, RunContext& ctx, const fs::path& model_dir, bool streamed) {
  const Params& p = row.suite_params;
  RunPlan plan;
  plan.config = LlamaConfig::load(model_dir / "config.json");
  plan.dtype = ctx.dtype();
  // The stored dtype from the weights, or from config.json's torch_dtype for a folder that holds only
  // the config (planning a model before downloading it).
  if (has_weights(model_dir))
    plan.stored_itemsize = static_cast<int64_t>(
        safetensors::dtype_size(CheckpointReader(model_dir).info("model.embed_tokens.weight").dtype));
  else
    plan.stored_itemsize = static_cast<int64_t>(c10::elementSize(dtype_from_name(plan.config.torch_dtype)));
  plan.streamed = streamed;
  plan.seqlen = p.get_int("seqlen");
  plan.calib_seqlen = p.get_int("calib_seqlen") > 0 ? p.get_int("calib_seqlen") : plan.seqlen;
  plan.calib_samples = p.get_int("nsamples");
  plan.calib_batch = p.get_int("calib_batch");
  plan.eval_batch = p.get_int("eval_batch");
  plan.sequential_order = p.get_string("order") == "sequential";
  plan.refiner = row.first("refiner") != nullptr;
  // Evaluation windows: the row's cap, else the split's characters / 4 (about 4 characters per
  // token for English BPE) / seqlen.
  for (const auto& ds : p.get_string_list("datasets")) {
    const auto& info = text_dataset_info(ds);
    int64_t n = p.get_int("eval_windows");
    if (n == 0) {
      const TextSplit split = load_text_split(ds, perplexity_data_dir(ctx), info.eval_split);
      n = static_cast<int64_t>(split.text.size()) / 4 / plan.seqlen;
      if (info.eval_max_windows) n = std::min(n, *info.eval_max_windows);
    }
    plan.eval_windows += n;
  }
  return plan;
}

Record run_streamed_row(const RowSpec& row, RunContext& ctx, const nlohmann::json& model_id) {
  const Params& p = row.suite_params;
  const fs::path dd = perplexity_data_dir(ctx);
  const fs::path dir = model_id["path"].get<std::string>();
  const int64_t seqlen = p.get_int("seqlen");
  if (!row.slot("transforms").empty())
    throw NotSupported(fmt::format("row '{}': transforms change the whole model at once and cannot stream; set streaming = \"off\"",
                                   row.display));
  if (!p.get_string_list("zero_shot").empty())
    throw NotSupported(fmt::format("row '{}': zero-shot tasks are not evaluated streamed; set streaming = \"off\"", row.display));

  Record rec;
  rec.model = model_id;
  Stopwatch row_clock;
  std::unique_ptr<Tokenizer> tok;
  std::unique_ptr<StreamedModel> sm;
  {
    auto t = ctx.timer().scope("load");
    auto m = ctx.memory().phase("load");
    tok = Tokenizer::load(dir);
    sm = std::make_unique<StreamedModel>(dir, ctx.dtype());
  }
  TokenCache token_cache(ctx.options().cache_dir.empty() ? fs::path() : ctx.options().cache_dir / "tokens");
  TokenizeOptions topts;
  topts.tokenizer_fingerprint = model_id["sha256"].get<std::string>();
  if (!ctx.options().cache_dir.empty()) topts.cache = &token_cache;

  std::unique_ptr<LayerCompressor> method = make_compressor(row.first("compressor"));
  const Component* refiner_c = row.first("refiner");
  if (refiner_c && !method) throw ConfigError(fmt::format("row '{}': a refiner needs a compressor", row.display));
  std::unique_ptr<BlockRefiner> refiner;
  if (refiner_c) {
    refiner = Registry<BlockRefiner>::instance().create(refiner_c->method);
    refiner->configure(refiner_c->params);
  }
  const bool calibrated = method && (method->needs_hessian() || method->needs_inputs() || refiner);

  // The estimate made before anything heavy runs, kept beside the measurements.
  RunPlan plan = perplexity_run_plan(row, ctx, dir, /*streamed=*/true);
  plan.compressor = method.get();
  plan.needs_calibration = calibrated;

  std::vector<std::string> datasets = p.get_string_list("datasets");
  std::vector<at::Tensor> windows;
  {
    auto t = ctx.timer().scope("tokenize");
    for (const auto& ds : datasets) {
      const auto& info = text_dataset_info(ds);
      std::optional<int64_t> max_w = info.eval_max_windows;
      if (p.get_int("eval_windows") > 0) max_w = p.get_int("eval_windows");
      windows.push_back(eval_windows(tokenize_split(load_text_split(ds, dd, info.eval_split), *tok, topts), seqlen, max_w));
    }
  }
  plan.eval_windows = 0;
  for (const at::Tensor& w : windows) plan.eval_windows += w.size(0);
  const RunEstimate est = estimate_run(plan, host_current_rss_mb(), measure_gemm_gflops());
  ctx.log().info("{}: streamed; estimate {}", row.display, est.summary());

  StreamedEval eval(*sm, windows, p.get_int("eval_batch"), ctx);
  CausalLM& model = sm->model();
  EngineReport report;
  {
    auto m = ctx.memory().phase("compress");
    if (calibrated) {
      const int64_t cl = p.get_int("calib_seqlen") > 0 ? p.get_int("calib_seqlen") : seqlen;
      at::Tensor calib;
      {
        auto t = ctx.timer().scope("calibrate");
        calib = calibration_windows(p.get_string("calibration"), dd, *tok, p.get_int("nsamples"), cl,
                                    ctx.generator("calibration"), topts);
      }
      EngineOptions eo;
      eo.order = p.get_string("order");
      eo.batch_size = p.get_int("calib_batch");
      eo.hessian_cache = "off";  // a streamed model's Hessians are as large as its blocks: not cached
      eo.input_samples = p.get_int("input_samples");
      eo.stream = &eval;
      report = compress_model(model, calib, *method, eo, ctx, refiner.get());
    } else if (method) {
      eval.embed(model, at::Tensor());
      report = compress_model_data_free(model, *method, ctx, &eval);
    } else {
      eval.embed(model, at::Tensor());
      auto progress = ctx.progress("blocks", model.num_layers());
      for (int64_t i = 0; i < model.num_layers(); ++i) {
        eval.load_block(model, i);
        model.block(i).to(ctx.device(), sm->dtype());
        eval.block_done(model, i);
        progress->advance();
      }
      progress->finish();
    }
  }
  const double eval_mb = eval.eval_activations_mb();
  std::vector<PerplexityResult> results;
  {
    auto t = ctx.timer().scope("eval");
    auto m = ctx.memory().phase("eval");
    results = eval.finish(model);
  }

  if (method) {
    rec.metrics["bits_per_weight"] = report.bits_per_weight();
    rec.metrics["params_kept"] = report.params_kept();
    rec.metrics["compress_s"] = report.compress_s;
    rec.metrics["calibrate_s"] = report.calibrate_s;
    if (refiner_c) rec.metrics["refine_s"] = report.refine_s;
    rec.details["engine"] = report.to_json();
  } else {
    rec.metrics["bits_per_weight"] = CompressedLinear::kValueBits;
    rec.metrics["params_kept"] = 1.0;
  }
  for (size_t k = 0; k < datasets.size(); ++k) {
    if (!std::isfinite(results[k].ppl))
      throw NonFiniteError(fmt::format("{} perplexity of the streamed model is not finite", datasets[k]));
    rec.metrics[datasets[k] + "_ppl"] = results[k].ppl;
    if (k == 0) rec.metrics["ppl"] = results[k].ppl;
    rec.details["eval"][datasets[k]] = {{"windows", results[k].windows}, {"tokens", results[k].tokens}};
  }
  const auto peaks = ctx.memory().peaks_mb();
  const double peak = peaks.count("host") ? peaks.at("host") : host_peak_rss_mb();
  const double model_mb = static_cast<double>(sm->embeddings_bytes() * (sm->config().tie_word_embeddings ? 1 : 2) +
                                              sm->block_bytes(0) * sm->config().num_hidden_layers) /
                          (1024.0 * 1024.0);
  rec.metrics["peak_host_mb"] = peak;
  rec.metrics["est_peak_host_mb"] = est.peak_mb;
  rec.metrics["run_s"] = row_clock.seconds();
  rec.metrics["est_run_s"] = est.seconds;
  rec.details["streamed"] = true;
  rec.details["estimate"] = est.to_json();
  rec.details["memory"] = {{"model_mb", model_mb},
                           {"peak_host_mb", peak},
                           {"block_mb", static_cast<double>(sm->block_bytes(0)) / (1024.0 * 1024.0)},
                           {"embeddings_mb", static_cast<double>(sm->embeddings_bytes()) / (1024.0 * 1024.0)},
                           {"eval_activations_mb", eval_mb},
                           {"activations_mb", report.activations_mb},
                           {"max_block_mb", report.max_block_mb}};
  return rec;
}

}  // namespace repro
