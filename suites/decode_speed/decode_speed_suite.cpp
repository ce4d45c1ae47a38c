// The decode_speed suite: end-to-end generation speed of a compressed causal LM on the CPU against
// the same model dense, in the same run, beside the compressed model's perplexity, so that a table
// row is one point of a speed-up vs perplexity Pareto plot. A row compresses the model exactly as
// a perplexity-suite row does (suites/perplexity/perplexity_pipeline.h: transforms, compressor,
// refiner, calibration), evaluates its perplexity, then times
//   decode   batch 1, `decode_tokens` tokens one at a time after a `prompt`-token prompt held in
//            the KV cache (models/decoder_block.h KvCache), and
//   prefill  one `prefill`-token prompt,
// alternating compressed and dense repetition by repetition. Compressed linears run from their
// compressed form through the CPU kernels (models/cpu_kernel_form.h, kernels/), never a dense copy.
//
// `model = "shape:<preset>"` (llama3-8b, ...) times random weights of that shape, `layers` blocks of
// it (speed does not depend on the values; there is no perplexity, and only data-free methods
// apply). Such rows time the blocks alone and the dense lm_head GEMV once, and project the full
// model's decode rate as 1 / (num_hidden_layers x block + head). Metrics: README.md here.

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "core/error.h"
#include "core/hash.h"
#include "core/memory.h"
#include "core/paths.h"
#include "core/run_context.h"
#include "core/suite_registry.h"
#include "core/table_spec.h"
#include "datasets/text_datasets.h"
#include "kernels/speed/kernel_speed.h"
#include "methods/api/block_refiner.h"
#include "methods/api/layer_compressor.h"
#include "methods/api/model_transform.h"
#include "models/compressed_linear.h"
#include "models/cpu_kernel_form.h"
#include "models/llama_config.h"
#include "models/random_checkpoint.h"
#include "suites/eval/model_identity.h"
#include "suites/perplexity/perplexity_pipeline.h"

namespace repro {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kShapePrefix = "shape:";

bool is_shape_model(const std::string& spec) { return spec.rfind(kShapePrefix, 0) == 0; }

// The shape model's config: the preset with its first `layers` blocks (0: all).
LlamaConfig shape_config(const Params& p) {
  const std::string spec = p.get_string("model");
  LlamaConfig c;
  try {
    c = model_shape_preset(spec.substr(std::string(kShapePrefix).size()));
  } catch (const Error& e) {
    p.fail("model", e.what());
  }
  const int64_t layers = p.get_int("layers");
  if (layers > c.num_hidden_layers)
    p.fail("layers", fmt::format("{} has {} blocks, not {}", spec, c.num_hidden_layers, layers));
  if (layers > 0) c.num_hidden_layers = layers;
  return c;
}

// The config of a model folder or zoo:NAME (config.json only: nothing is loaded).
LlamaConfig model_config(const std::string& spec) {
  return LlamaConfig::load(resolve_model_path(spec) / "config.json");
}

// How many of the model's linears are compressed, and how many of those the CPU kernels take
// (models/cpu_kernel_form.h); the others multiply by a dense reconstruction.
std::pair<int64_t, int64_t> kernel_linears(const CausalLM& m) {
  int64_t compressed = 0, kernel = 0;
  for (int64_t i = 0; i < m.num_layers(); ++i)
    for (const std::string& name : DecoderBlock::linear_names()) {
      const Linear& l = m.block(i).linear(name);
      if (!l.is_compressed()) continue;
      ++compressed;
      // Packs the layer into the forms cache that forward() then reuses.
      if (uses_cpu_kernels(l.compressed, at::zeros({1, l.compressed->in_features()}))) ++kernel;
    }
  return {compressed, kernel};
}

// One pass of a model over tokens with caches: the whole model, or (shape models) the blocks alone.
void step(const CausalLM& m, const at::Tensor& tokens, std::vector<KvCache>& caches, bool blocks_only) {
  if (!blocks_only) {
    m.forward(tokens, caches);
    return;
  }
  if (caches.empty()) caches.resize(static_cast<size_t>(m.num_layers()));
  at::Tensor h = m.embed(tokens);
  for (int64_t i = 0; i < m.num_layers(); ++i) h = m.block(i).forward(h, caches[static_cast<size_t>(i)]);
}

// The two models of a row and what their timings share.
struct Pair {
  const CausalLM* dense = nullptr;
  const CausalLM* compressed = nullptr;
  bool blocks_only = false;
  at::Tensor prompt, next, prefill;  // [1, prompt], [1, 1], [1, prefill] int64
  int64_t decode_tokens = 0;
  int reps = 0;
  std::chrono::milliseconds pause{0};
};

struct Timing {
  kernels::speed::Stats dense, compressed;  // seconds per token
  double speedup = 0;                       // median over reps of dense / compressed (paired)
};

// Seconds per decoded token: the prompt is in the caches (its length restored each time), then
// `decode_tokens` single-token steps are timed together.
double decode_once(const CausalLM& m, const Pair& p, std::vector<KvCache>& caches) {
  const int64_t prompt = p.prompt.size(1);
  for (auto& c : caches) c.length = prompt;
  const auto t0 = Clock::now();
  for (int64_t i = 0; i < p.decode_tokens; ++i) step(m, p.next, caches, p.blocks_only);
  return std::chrono::duration<double>(Clock::now() - t0).count() / static_cast<double>(p.decode_tokens);
}

double prefill_once(const CausalLM& m, const Pair& p) {
  std::vector<KvCache> caches;
  const auto t0 = Clock::now();
  step(m, p.prefill, caches, p.blocks_only);
  return std::chrono::duration<double>(Clock::now() - t0).count() / static_cast<double>(p.prefill.size(1));
}

// Alternates the two models rep by rep after one untimed run of each, in ABBA order (compressed
// first in even reps, dense first in odd ones), so that whatever favours the first or the second
// run of a pair cancels (a dense-vs-dense row showed 0.93x with a fixed order).
template <class Once>
Timing alternate(const Pair& p, const Once& once) {
  once(*p.compressed, true);
  once(*p.dense, false);
  std::vector<double> tc, td, ratio;
  for (int r = 0; r < p.reps; ++r) {
    double c = 0, d = 0;
    for (int k = 0; k < 2; ++k) {
      std::this_thread::sleep_for(p.pause);
      if ((k == 0) == (r % 2 == 0))
        c = once(*p.compressed, true);
      else
        d = once(*p.dense, false);
    }
    tc.push_back(c);
    td.push_back(d);
    ratio.push_back(d / c);
  }
  return {kernels::speed::summarize(td), kernels::speed::summarize(tc), kernels::speed::summarize(ratio).median};
}

Timing time_decode(const Pair& p) {
  std::vector<KvCache> cache_c, cache_d;
  step(*p.compressed, p.prompt, cache_c, p.blocks_only);
  step(*p.dense, p.prompt, cache_d, p.blocks_only);
  return alternate(
      p, [&](const CausalLM& m, bool compressed) { return decode_once(m, p, compressed ? cache_c : cache_d); });
}

Timing time_prefill(const Pair& p) {
  return alternate(p, [&](const CausalLM& m, bool) { return prefill_once(m, p); });
}

// The dense lm_head GEMV of one token (median seconds over reps).
double time_head(const CausalLM& m, int reps) {
  at::Tensor h = at::randn({1, 1, m.config().hidden_size});
  std::vector<double> t;
  for (int r = 0; r < reps + 1; ++r) {
    const auto t0 = Clock::now();
    m.head(h);
    if (r > 0) t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return kernels::speed::summarize(t).median;
}

class DecodeSpeedSuite : public Suite {
 public:
  static const SuiteInfo& static_info() {
    static const SuiteInfo info = [] {
      SuiteInfo i;
      i.name = "decode_speed";
      i.family = Suite::kFamily;
      i.summary = "CPU decode and prefill speed of a compressed LM vs the same model dense, beside its perplexity";
      i.version = "1";
      i.params = {
          param_string("model", "zoo:tiny",
                       "zoo:<name>, a Hugging Face model folder, or shape:<preset> (random weights)"),
          param_int("layers", 0, "blocks of a shape:<preset> model to build and time (0: all)").at_least(0),
          param_string("dataset", "embedded", "perplexity dataset (none: skip the perplexity)"),
          param_int("seqlen", 256, "perplexity window length (tokens)").at_least(2),
          param_int("eval_windows", 0, "perplexity windows (0: all)").at_least(0),
          param_int("eval_batch", 8, "windows per forward pass during evaluation").at_least(1),
          param_int("prompt", 128, "tokens in the KV cache before decoding is timed").at_least(1),
          param_int("decode_tokens", 16, "tokens decoded per timed repetition").at_least(1),
          param_int("prefill", 512, "prompt length of the prefill timing").at_least(1),
          param_int("reps", 7, "timed repetitions of each model, alternating").at_least(1),
          param_int("threads", 0, "libtorch and kernel threads (0: every core)").at_least(0),
          param_int("blas_threads", 1,
                    "OpenBLAS threads of both models during the timings (0: leave OpenBLAS's own setting)")
              .at_least(0),
          param_float("pause_ms", 20, "untimed pause before each timed repetition").at_least(0),
      };
      for (ParamSpec& c : calibration_params()) i.params.push_back(std::move(c));
      i.slots = {{"transforms", ModelTransform::kFamily, true, "change the model before calibration, in order"},
                 {"compressor", LayerCompressor::kFamily, false, "compresses every linear of every block"},
                 {"refiner", BlockRefiner::kFamily, false, "trains each compressed block against the dense one"}};
      i.metrics = {
          {"ppl", Better::Lower, "perplexity of the compressed model on `dataset`", 4},
          {"decode_speedup", Better::Higher, "median of paired dense / compressed decode time per token", 3},
          {"prefill_speedup", Better::Higher, "median of paired dense / compressed prefill time per token", 3},
          {"decode_tok_s", Better::Higher, "compressed decode tokens per second at batch 1 (median)", 4},
          {"dense_decode_tok_s", Better::None, "dense decode tokens per second at batch 1 (median)", 4},
          {"prefill_tok_s", Better::Higher, "compressed prefill tokens per second (median)", 4},
          {"dense_prefill_tok_s", Better::None, "dense prefill tokens per second (median)", 4},
          {"block_ms", Better::Lower, "shape models: compressed decode ms per block per token", 4},
          {"dense_block_ms", Better::None, "shape models: dense decode ms per block per token", 4},
          {"head_ms", Better::None, "shape models: dense lm_head ms per token", 4},
          {"full_decode_tok_s", Better::Higher,
           "shape models: projected decode tokens/s of all the preset's blocks + head", 4},
          {"full_decode_speedup", Better::Higher, "shape models: projected full-model decode speed-up", 3},
          {"bits_per_weight", Better::Lower, "storage bits per weight of the linear layers", 4},
          {"params_kept", Better::None, "fraction of linear-layer parameters kept", 3},
      };
      return i;
    }();
    return info;
  }
  const SuiteInfo& info() const override { return static_info(); }

  nlohmann::json fingerprint(const RowSpec& row, RunContext& ctx) override {
    const Params& p = row.suite_params;
    const std::string spec = p.get_string("model");
    nlohmann::json data = nlohmann::json::object();
    if (is_shape_model(spec))  // validated by run_row, so that a bad shape fails its row with a record
      return {{"model", {{"name", spec}, {"layers", p.get_int("layers")}, {"weights", "random"}}}, {"data", data}};
    const fs::path dd = perplexity_data_dir(ctx);
    const std::string ds = p.get_string("dataset");
    if (ds != "none") data[ds] = dataset_files_sha256(ds, dd, text_dataset_info(ds).eval_split);
    if (row_needs_calibration(row))
      data["calibration:" + p.get_string("calibration")] =
          dataset_files_sha256(p.get_string("calibration"), dd, "train");
    return {{"model", model_identity(spec)}, {"data", data}};
  }

  Record run_row(const RowSpec& row, RunContext& ctx) override {
    const Params& p = row.suite_params;
    if (!ctx.device().is_cpu())
      throw NotSupported("the decode_speed suite times the CPU kernels; run it with --device cpu");
    if (ctx.dtype() != at::kFloat)
      throw NotSupported("the decode_speed suite compares against dense fp32; run it with --dtype float32");
    at::NoGradGuard no_grad;
    const int threads = kernels::speed::threads_or_all(static_cast<int>(p.get_int("threads")));
    const int torch_threads_before = at::get_num_threads();
    at::set_num_threads(threads);
    struct RestoreTorch {
      int n;
      ~RestoreTorch() { at::set_num_threads(n); }
    } restore_torch{torch_threads_before};

    Record rec;
    const std::string spec = p.get_string("model");
    const bool shape = is_shape_model(spec);
    const int64_t max_pos =
        shape ? shape_config(p).max_position_embeddings : model_config(spec).max_position_embeddings;
    if (p.get_int("prompt") + p.get_int("decode_tokens") > max_pos)
      p.fail("prompt", fmt::format("prompt + decode_tokens ({} + {}) exceed the model's {} positions",
                                   p.get_int("prompt"), p.get_int("decode_tokens"), max_pos));
    if (p.get_int("prefill") > max_pos)
      p.fail("prefill", fmt::format("{} tokens exceed the model's {} positions", p.get_int("prefill"), max_pos));
    LoadedLM lm, dense;
    if (shape) {
      if (row_needs_calibration(row))
        throw NotSupported(
            fmt::format("row '{}': {} has random weights and no data; use a data-free method (rtn, "
                        "magnitude, ...)",
                        row.display, spec));
      const LlamaConfig c = shape_config(p);
      // Two fp32 copies (dense and compressed) must fit, with room for the compressed forms.
      const double need_gib = 2.0 * static_cast<double>(CausalLM(c).num_parameters()) * 4 / (1 << 30);
      const double total_gib = host_total_mb() / 1024;
      if (total_gib > 0 && need_gib > 0.85 * total_gib)
        throw NotSupported(
            fmt::format("row '{}': {} with {} blocks needs about {:.1f} GiB for its dense and "
                        "compressed fp32 copies, over 85% of this machine's {:.1f} GiB; lower `layers`",
                        row.display, spec, c.num_hidden_layers, need_gib, total_gib));
      {
        auto t = ctx.timer().scope("load");
        lm.model = CausalLM::random(c, ctx.seed());
        dense.model = CausalLM::random(c, ctx.seed());
      }
      lm.identity = {
          {"name", spec}, {"path", ""}, {"sha256", fmt::format("{}/{}/{}", spec, c.num_hidden_layers, ctx.seed())}};
      rec.model = {{"name", fmt::format("{} ({} blocks, random)", spec, c.num_hidden_layers)}};
    } else {
      const nlohmann::json id = model_identity(spec);
      rec.model = id;
      lm = load_lm_identified(id, ctx);
      dense = load_lm_identified(id, ctx);
    }

    RowCompression rc = compress_row(lm, row, ctx);
    if (rc.compressed) {
      rec.metrics["bits_per_weight"] = rc.report->bits_per_weight();
      rec.metrics["params_kept"] = rc.report->params_kept();
      rec.details["engine"] = rc.report->to_json();
    } else {
      rec.metrics["bits_per_weight"] = CompressedLinear::kValueBits;
      rec.metrics["params_kept"] = 1.0;
    }
    const auto [n_compressed, n_kernel] = kernel_linears(*lm.model);
    rec.details["compressed_linears"] = n_compressed;
    rec.details["kernel_linears"] = n_kernel;
    if (n_kernel < n_compressed)
      spdlog::warn(
          "decode_speed: {}: {} of {} compressed linears are in a format the CPU kernels do not take; they "
          "multiply by a dense reconstruction",
          row.display, n_compressed - n_kernel, n_compressed);
    const std::string ds = p.get_string("dataset");
    if (!shape && ds != "none") {
      PerplexityResult r = dataset_perplexity(*lm.model, *lm.tokenizer, lm.tokenize, ds, p.get_int("seqlen"),
                                              p.get_int("eval_windows"), p.get_int("eval_batch"), ctx);
      rec.metrics["ppl"] = r.ppl;
      rec.details["eval"] = {{"dataset", ds}, {"windows", r.windows}, {"tokens", r.tokens}};
    }

    // The timings run OpenBLAS on one thread unless the row asks otherwise: its workers spin after
    // each call, and beside libtorch's and the kernels' OpenMP pool a second OpenBLAS thread on 2
    // cores made the dense model's prefill 5x slower and the compressed models' decode 2-3x slower
    // (README.md). Compression and the perplexity keep OpenBLAS's own setting (faster for them).
    const int blas_now = kernels::speed::blas_threads();
    const int blas_threads = p.get_int("blas_threads") > 0 ? static_cast<int>(p.get_int("blas_threads")) : blas_now;
    const int blas_before = blas_now > 0 ? kernels::speed::set_blas_threads(blas_threads) : 0;
    struct RestoreBlas {
      int n;
      ~RestoreBlas() {
        if (n > 0) kernels::speed::set_blas_threads(n);
      }
    } restore_blas{blas_before};

    Pair pair;
    pair.dense = dense.model.get();
    pair.compressed = lm.model.get();
    pair.blocks_only = shape;
    at::Generator g = ctx.generator("decode_tokens");
    const int64_t V = lm.model->config().vocab_size;
    const auto long_opts = at::TensorOptions().dtype(at::kLong);
    pair.prompt = at::randint(0, V, {1, p.get_int("prompt")}, g, long_opts);
    pair.next = at::randint(0, V, {1, 1}, g, long_opts);
    pair.prefill = at::randint(0, V, {1, p.get_int("prefill")}, g, long_opts);
    pair.decode_tokens = p.get_int("decode_tokens");
    pair.reps = static_cast<int>(p.get_int("reps"));
    pair.pause = std::chrono::milliseconds(static_cast<int64_t>(p.get_float("pause_ms")));

    Timing dec, pre;
    {
      auto t = ctx.timer().scope("decode");
      dec = time_decode(pair);
    }
    {
      auto t = ctx.timer().scope("prefill");
      pre = time_prefill(pair);
    }
    rec.metrics["decode_tok_s"] = 1.0 / dec.compressed.median;
    rec.metrics["dense_decode_tok_s"] = 1.0 / dec.dense.median;
    rec.metrics["decode_speedup"] = dec.speedup;
    rec.metrics["prefill_tok_s"] = 1.0 / pre.compressed.median;
    rec.metrics["dense_prefill_tok_s"] = 1.0 / pre.dense.median;
    rec.metrics["prefill_speedup"] = pre.speedup;
    auto stats = [](const kernels::speed::Stats& s) {
      return nlohmann::json{{"median_s", s.median}, {"p10_s", s.p10}, {"p90_s", s.p90}};
    };
    rec.details["decode"] = {{"compressed", stats(dec.compressed)},
                             {"dense", stats(dec.dense)},
                             {"prompt", pair.prompt.size(1)},
                             {"tokens", pair.decode_tokens},
                             {"reps", pair.reps}};
    rec.details["prefill"] = {{"compressed", stats(pre.compressed)},
                              {"dense", stats(pre.dense)},
                              {"tokens", pair.prefill.size(1)},
                              {"reps", pair.reps}};
    rec.details["threads"] = threads;
    rec.details["blas_threads"] = blas_before > 0 ? blas_threads : 0;
    if (shape) {
      const double blocks = static_cast<double>(lm.model->num_layers());
      const double full =
          static_cast<double>(model_shape_preset(spec.substr(std::string(kShapePrefix).size())).num_hidden_layers);
      const double block_c = dec.compressed.median / blocks, block_d = dec.dense.median / blocks;
      const double head = time_head(*dense.model, pair.reps);
      rec.metrics["block_ms"] = block_c * 1e3;
      rec.metrics["dense_block_ms"] = block_d * 1e3;
      rec.metrics["head_ms"] = head * 1e3;
      rec.metrics["full_decode_tok_s"] = 1.0 / (full * block_c + head);
      rec.metrics["full_decode_speedup"] = (full * block_d + head) / (full * block_c + head);
      rec.details["full_blocks"] = full;
    }
    spdlog::info("decode_speed: {}: decode {:.1f} tok/s vs dense {:.1f} ({:.2f}x), prefill {:.0f} vs {:.0f} ({:.2f}x)",
                 row.display, 1.0 / dec.compressed.median, 1.0 / dec.dense.median, dec.speedup,
                 1.0 / pre.compressed.median, 1.0 / pre.dense.median, pre.speedup);
    return rec;
  }
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_SUITE(repro::DecodeSpeedSuite);
