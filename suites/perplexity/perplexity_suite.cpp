// The perplexity suite: a row names a model (zoo:tiny by default, or a Hugging Face folder),
// optionally compresses it with the layer-wise engine, and evaluates perplexity on text datasets
// (and zero-shot accuracy when asked). Metrics: <dataset>_ppl, bits_per_weight, params_kept,
// tokens_per_s, compress_s, calibrate_s, and one accuracy per zero-shot task plus their mean.

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/memory.h"
#include "core/paths.h"
#include "core/run_context.h"
#include "core/suite_registry.h"
#include "core/table_spec.h"
#include "datasets/mc_metrics.h"
#include "datasets/text_datasets.h"
#include "datasets/zero_shot.h"
#include "methods/api/block_refiner.h"
#include "methods/api/layer_compressor.h"
#include "methods/api/model_transform.h"
#include "suites/eval/model_identity.h"
#include "suites/eval/zero_shot_eval.h"
#include "suites/perplexity/perplexity_pipeline.h"
#include "suites/perplexity/run_estimate.h"
#include "suites/perplexity/streamed_row.h"

namespace repro {
namespace {

namespace fs = std::filesystem;

// The memory a compression adds beyond the loaded model, from the "compress" phase of the row's
// MemoryMeter (the shared definition: free heap pages returned and the marks reset when the phase
// starts, so the tokenizer's or an earlier phase's peak does not count).
void record_memory_phase(Record& rec, const MemoryMeter& meter, const EngineReport& report) {
  const PhaseMemory* pm = meter.find("compress");
  REPRO_ASSERT(pm != nullptr, "the compress memory phase did not run");
  auto& m = rec.details["memory"];
  m["rss_before_compress_mb"] = pm->host_start_mb;
  m["peak_compress_mb"] = pm->host_peak_mb;
  // What the engine holds beyond the model: one block, the calibration activations (one buffer),
  // one batch's forward working set, the block's Hessians and the solver's workspace.
  m["compress_overhead_mb"] = pm->host_added_mb;
  m["activations_mb"] = report.activations_mb;
  m["targets_mb"] = report.targets_mb;
  m["max_block_mb"] = report.max_block_mb;
  if (pm->cuda_peak_mb > 0) m["cuda_peak_compress_mb"] = pm->cuda_peak_mb;
}

class PerplexitySuite : public Suite {
 public:
  static const SuiteInfo& static_info() {
    static const SuiteInfo info = [] {
      SuiteInfo i;
      i.name = "perplexity";
      i.family = Suite::kFamily;
      i.summary = "compress a causal LM layer by layer (optional), then evaluate perplexity and zero-shot accuracy";
      i.version = "1";
      i.params = {
          param_string("model", "zoo:tiny", "zoo:<name> or a Hugging Face model folder"),
          param_list("datasets", ParamType::StringList, {Value("embedded")},
                     "perplexity datasets: embedded, wikitext2, c4, ptb"),
          param_int("seqlen", 256, "evaluation window length (tokens)").at_least(2),
          param_int("eval_windows", 0, "evaluate at most this many windows per dataset (0: all; c4: 256)").at_least(0),
          param_int("eval_batch", 8, "windows per forward pass during evaluation").at_least(1),
          param_list("zero_shot", ParamType::StringList, {}, "zero-shot tasks (lm-eval names), from <data-dir>/zeroshot"),
          param_int("zero_shot_limit", 0, "documents per zero-shot task (0: all)").at_least(0),
          param_string("streaming", "auto",
                       "read the model block by block from its checkpoint (auto: when its weights would take over 40% of memory)",
                       {"auto", "on", "off"})
              .quiet_at_default(),
      };
      for (ParamSpec& c : calibration_params()) i.params.push_back(std::move(c));
      i.slots = {{"transforms", ModelTransform::kFamily, true, "change the model before calibration, in order"},
                 {"compressor", LayerCompressor::kFamily, false, "compresses every linear of every block"},
                 {"refiner", BlockRefiner::kFamily, false, "trains each compressed block against the dense one"}};
      for (const auto& ds : {"embedded", "wikitext2", "c4", "ptb"})
        i.metrics.push_back({std::string(ds) + "_ppl", Better::Lower, std::string(ds) + " perplexity", 4});
      i.metrics.push_back({"ppl", Better::Lower, "perplexity on the first of `datasets` (the one paper numbers refer to)", 4});
      i.metrics.push_back({"bits_per_weight", Better::Lower, "storage bits per weight of the linear layers", 4});
      i.metrics.push_back({"params_kept", Better::None, "fraction of linear-layer parameters kept", 3});
      i.metrics.push_back({"tokens_per_s", Better::Higher, "evaluation throughput", 3});
      i.metrics.push_back({"compress_s", Better::Lower, "seconds spent in the compressor", 3});
      i.metrics.push_back({"calibrate_s", Better::Lower, "seconds spent calibrating", 3});
      i.metrics.push_back({"refine_s", Better::Lower, "seconds spent in the block refiner", 3});
      for (const auto& t : mc_task_names()) i.metrics.push_back({t, Better::Higher, "zero-shot accuracy", 4});
      i.metrics.push_back({"zero_shot_avg", Better::Higher, "mean zero-shot accuracy", 4});
      i.metrics.push_back({"peak_host_mb", Better::Lower, "peak host memory of the row (MiB; streamed rows)", 4});
      i.metrics.push_back({"est_peak_host_mb", Better::None, "the estimate of peak_host_mb made before the row ran", 4});
      i.metrics.push_back({"run_s", Better::Lower, "wall seconds of the row (streamed rows)", 3});
      i.metrics.push_back({"est_run_s", Better::None, "the estimate of run_s made before the row ran", 3});
      return i;
    }();
    return info;
  }
  const SuiteInfo& info() const override { return static_info(); }

  nlohmann::json fingerprint(const RowSpec& row, RunContext& ctx) override {
    const Params& p = row.suite_params;
    nlohmann::json data = nlohmann::json::object();
    const fs::path dd = perplexity_data_dir(ctx);
    for (const auto& ds : p.get_string_list("datasets"))
      data[ds] = dataset_files_sha256(ds, dd, text_dataset_info(ds).eval_split);
    if (row_needs_calibration(row))
      data["calibration:" + p.get_string("calibration")] =
          dataset_files_sha256(p.get_string("calibration"), dd, "train");
    for (const auto& t : p.get_string_list("zero_shot")) data["zeroshot:" + t] = sha256_file(mc_task_file(dd, t));
    return {{"model", model_identity(p.get_string("model"))}, {"data", data}};
  }

  nlohmann::json estimate(const RowSpec& row, RunContext& ctx) override {
    const Params& p = row.suite_params;
    const fs::path dir = resolve_model_path(p.get_string("model"));
    const bool streamed = row_streams(p.get_string("streaming"), dir, ctx.dtype());
    RunPlan plan = perplexity_run_plan(row, ctx, dir, streamed);
    std::unique_ptr<LayerCompressor> method;
    if (const Component* c = row.first("compressor")) {
      method = Registry<LayerCompressor>::instance().create(c->method);
      method->configure(c->params);
    }
    plan.compressor = method.get();
    plan.needs_calibration = row_needs_calibration(row);
    const RunEstimate e = estimate_run(plan, host_current_rss_mb(), measure_gemm_gflops());
    nlohmann::json j = e.to_json();
    j["summary"] = fmt::format("{}{}", streamed ? "streamed, " : "", e.summary());
    return j;
  }

  Record run_row(const RowSpec& row, RunContext& ctx) override {
    const Params& p = row.suite_params;
    const fs::path dd = perplexity_data_dir(ctx);
    const int64_t seqlen = p.get_int("seqlen");
    Record rec;
    const nlohmann::json model_id = model_identity(p.get_string("model"));
    rec.model = model_id;
    if (row_streams(p.get_string("streaming"), model_id["path"].get<std::string>(), ctx.dtype()))
      return run_streamed_row(row, ctx, model_id);
    LoadedLM lm = load_lm_identified(model_id, ctx);
    CausalLM& model = *lm.model;

    // Memory: what the row holds before compressing, and the peak the compression reaches; the
    // engine keeps one block and its activations on the device, so the difference should stay
    // within about one block's weights + Hessians + the calibration activations.
    const double rss_loaded = host_current_rss_mb();
    rec.details["memory"] = {{"model_mb", model_megabytes(model)}, {"rss_after_load_mb", rss_loaded}};
    RowCompression rc = compress_row(lm, row, ctx);
    if (rc.compressed) {
      const EngineReport& report = *rc.report;
      record_memory_phase(rec, ctx.memory(), report);
      rec.metrics["bits_per_weight"] = report.bits_per_weight();
      rec.metrics["params_kept"] = report.params_kept();
      rec.metrics["compress_s"] = report.compress_s;
      rec.metrics["calibrate_s"] = report.calibrate_s;
      if (row.first("refiner")) rec.metrics["refine_s"] = report.refine_s;
      rec.details["engine"] = report.to_json();
    } else {
      rec.metrics["bits_per_weight"] = CompressedLinear::kValueBits;
      rec.metrics["params_kept"] = 1.0;
    }

    model.to(ctx.device(), ctx.dtype());
    bool first = true;
    for (const auto& ds : p.get_string_list("datasets")) {
      PerplexityResult r = dataset_perplexity(model, *lm.tokenizer, lm.tokenize, ds, seqlen, p.get_int("eval_windows"),
                                              p.get_int("eval_batch"), ctx);
      rec.metrics[ds + "_ppl"] = r.ppl;
      if (first) rec.metrics["ppl"] = r.ppl;
      rec.details["eval"][ds] = {{"windows", r.windows}, {"tokens", r.tokens}, {"seconds", r.seconds}};
      if (first) rec.metrics["tokens_per_s"] = r.tokens_per_s;
      first = false;
    }

    std::vector<double> accs;
    for (const auto& task : p.get_string_list("zero_shot")) {
      auto t = ctx.timer().scope("zero_shot");
      auto reqs = load_mc_task(task, mc_task_file(dd, task), static_cast<size_t>(p.get_int("zero_shot_limit")));
      ZeroShotOptions zo;
      zo.max_length = model.config().max_position_embeddings;
      auto ll = choice_loglikelihoods(model, *lm.tokenizer, reqs, zo, ctx, task);
      McScore s = mc_score(reqs, ll);
      double v = mc_reported(task, s);
      rec.metrics[task] = v;
      rec.details["zero_shot"][task] = {{"acc", s.acc}, {"acc_norm", s.acc_norm}, {"docs", s.count},
                                         {"metric", mc_task_info(task).metric}};
      accs.push_back(v);
    }
    if (!accs.empty()) rec.metrics["zero_shot_avg"] = mc_average(accs);
    return rec;
  }

 private:
  static double model_megabytes(CausalLM& model) {
    double bytes = 0;
    for (auto& np : model.named_parameters())
      if (np.tensor && np.tensor->defined()) bytes += static_cast<double>(np.tensor->numel() * np.tensor->element_size());
    return bytes / (1024.0 * 1024.0);
  }
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_SUITE(repro::PerplexitySuite);
