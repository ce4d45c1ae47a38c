// repro compress --model DIR --method SPEC --out DIR --format hf|compressed-tensors|compact
// repro eval --model DIR
//
// compress runs a pipeline exactly as a perplexity-suite row does (suites/perplexity/
// perplexity_pipeline.h) and writes the compressed model with a recipe.toml; eval loads an hf or
// compact folder and prints its test perplexity with the suite's evaluation.

#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "apps/repro/cli.h"
#include "core/atomic_file.h"
#include "core/disk_cache.h"
#include "core/error.h"
#include "core/pipeline_spec.h"
#include "core/toml_writer.h"
#include "datasets/text_datasets.h"
#include "models/decoder_block.h"
#include "models/llama_io.h"
#include "models/tokenizer.h"
#include "suites/eval/model_identity.h"
#include "suites/perplexity/model_export.h"
#include "suites/perplexity/perplexity_pipeline.h"

namespace repro::cli {

namespace fs = std::filesystem;

namespace {

// Options of both commands that set up the run (a subset of the table commands' options).
struct RunFlags {
  std::string device = "cpu", dtype = "float32", log_level = "info", data_dir, cache_dir;
  uint64_t seed = 0;
  int threads = 0;
  bool no_progress = false;
};

void add_run_flags(po::options_description& desc, RunFlags& f) {
  desc.add_options()
      ("data-dir", po::value(&f.data_dir), "folder with the datasets (default: the embedded corpus)")
      ("device", po::value(&f.device)->default_value("cpu"), "cpu, cuda or cuda:N")
      ("dtype", po::value(&f.dtype)->default_value("float32"), "dtype the model runs in: float32, bfloat16, float16")
      ("cache-dir", po::value(&f.cache_dir), "cache folder for Hessians and tokens (default: <project>/results/cache; 'off': none)")
      ("threads", po::value(&f.threads)->default_value(0), "CPU threads (0: libtorch default)")
      ("log-level", po::value(&f.log_level)->default_value("info"), "trace, debug, info, warn, error")
      ("no-progress", po::bool_switch(&f.no_progress), "no progress bars");
}

RunOptions run_options(const RunFlags& f) {
  CommonOptions c;
  c.device = f.device;
  c.dtype = f.dtype;
  c.log_level = f.log_level;
  c.data_dir = f.data_dir;
  c.cache_dir = f.cache_dir == "off" ? "" : f.cache_dir;
  c.seed = f.seed;
  c.threads = f.threads;
  c.no_progress = f.no_progress;
  configure_process(c);
  RunOptions r = make_run_options(c);
  if (f.cache_dir == "off") r.cache_dir.clear();
  return r;
}

std::string shell_quote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=./:,") ==
                        std::string::npos)
    return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string command_line(int argc, char** argv) {
  std::string s = "repro";
  for (int i = 0; i < argc; ++i) s += " " + shell_quote(argv[i]);
  return s;
}

// One progress line per block: its linears' mean relative error and storage.
void print_block(int64_t block, int64_t blocks, const EngineReport& so_far) {
  const size_t per_block = DecoderBlock::linear_names().size();
  const size_t begin = so_far.layers.size() >= per_block ? so_far.layers.size() - per_block : 0;
  double err = 0, seconds = 0, bits = 0, numel = 0;
  int errs = 0;
  for (size_t k = begin; k < so_far.layers.size(); ++k) {
    const LayerOutcome& l = so_far.layers[k];
    if (l.rel_error >= 0) err += l.rel_error, ++errs;
    seconds += l.seconds;
    bits += static_cast<double>(l.stats.bits);
    numel += static_cast<double>(l.stats.numel);
  }
  std::cout << fmt::format("block {}/{}: {} linears, {:.2f} bits/weight, {}{:.2f} s\n", block + 1, blocks,
                           so_far.layers.size() - begin, numel > 0 ? bits / numel : 0.0,
                           errs ? fmt::format("mean relative error {:.4g}, ", err / errs) : "", seconds)
            << std::flush;
}

}  // namespace

int cmd_compress(int argc, char** argv) {
  RunFlags flags;
  std::string model, method, out, format_name = "compact", calibration = "embedded", dataset = "embedded", save_dtype;
  int64_t samples = 128, seq_len = 256, calib_batch = 8, eval_windows = 0, eval_batch = 8;
  bool eval = false, force = false, json = false;
  po::options_description desc("repro compress options");
  desc.add_options()
      ("model", po::value(&model)->required(), "source model: a Hugging Face folder or zoo:NAME")
      ("method", po::value(&method)->required(), "pipeline spec, e.g. \"gptq(bits=4,group_size=128)\" or \"sparsegpt(pattern=2:4)\"")
      ("out", po::value(&out)->required(), "output folder")
      ("format", po::value(&format_name)->default_value("compact"), "hf (dense reconstructed weights), compressed-tensors (vLLM) or compact")
      ("calibration-samples", po::value(&samples)->default_value(128), "calibration sequences")
      ("seq-len", po::value(&seq_len)->default_value(256), "calibration (and --eval) sequence length")
      ("calibration", po::value(&calibration)->default_value("embedded"), "calibration dataset (its training split)")
      ("calib-batch", po::value(&calib_batch)->default_value(8), "calibration sequences per block forward")
      ("seed", po::value(&flags.seed)->default_value(0), "seed of the calibration draw (and of every random choice)")
      ("save-dtype", po::value(&save_dtype), "dtype of the written plain parameters (default: float32; compressed-tensors: the source's 16-bit dtype)")
      ("eval", po::bool_switch(&eval), "also print the in-memory compressed model's test perplexity (recorded in recipe.toml)")
      ("dataset", po::value(&dataset)->default_value("embedded"), "--eval dataset: embedded, wikitext2, c4, ptb")
      ("eval-windows", po::value(&eval_windows)->default_value(0), "--eval: at most this many windows (0: all)")
      ("eval-batch", po::value(&eval_batch)->default_value(8), "--eval: windows per forward pass")
      ("json", po::bool_switch(&json), "end with one JSON line (output, size, storage, perplexity)")
      ("force", po::bool_switch(&force), "write into an output folder that is not empty");
  add_run_flags(desc, flags);
  po::positional_options_description pos;
  po::variables_map vm;
  if (!parse(argc, argv, desc, pos, vm, "repro compress --model DIR|zoo:NAME --method SPEC --out DIR [--format F] [options]"))
    return 0;

  // Everything the user gave is checked before the model loads.
  const ExportFormat format = parse_export_format(format_name);
  Value::Table suite_params{{"model", Value(model)},
                            {"nsamples", Value(samples)},
                            {"seqlen", Value(seq_len)},
                            {"calibration", Value(calibration)},
                            {"calib_batch", Value(calib_batch)},
                            {"datasets", Value(Value::Array{Value(dataset)})},
                            {"eval_windows", Value(eval_windows)},
                            {"eval_batch", Value(eval_batch)}};
  const RowSpec row = pipeline_row(method, "perplexity", suite_params, "compress");
  const std::string pipeline = row.pipeline();
  if (format == ExportFormat::CompressedTensors && !row.first("compressor"))
    throw ConfigError(fmt::format("--format compressed-tensors: '{}' compresses nothing (no quantizer or pruner)", pipeline));
  const fs::path out_dir(out);
  std::error_code ec;
  if (fs::exists(out_dir, ec) && !fs::is_directory(out_dir, ec))
    throw ConfigError(fmt::format("--out {}: exists and is not a folder", out));
  if (fs::is_directory(out_dir, ec) && !fs::is_empty(out_dir, ec) && !force)
    throw ConfigError(fmt::format("--out {}: the folder is not empty (--force writes into it)", out));
  if (!save_dtype.empty()) dtype_from_name(save_dtype);  // ModelError naming the dtypes, before any work

  RunContext ctx(run_options(flags));
  LoadedLM lm = load_lm(model, ctx);
  if (fs::exists(out_dir, ec) && fs::equivalent(out_dir, lm.dir(), ec))
    throw ConfigError(fmt::format("--out {} is the source model's folder", out));
  CausalLM& m = *lm.model;
  std::cout << fmt::format("{}: {} blocks, {:.2f} M parameters; pipeline {}\n", model, m.num_layers(),
                           static_cast<double>(m.num_parameters()) / 1e6, pipeline)
            << std::flush;

  RowCompressionHooks hooks;
  hooks.after_transforms = [&](CausalLM& mm) { check_forward_exportable(format, mm); };
  hooks.before_compress = [&](LayerCompressor& c, const CausalLM&) {
    check_compressor_exportable(format, c, m, pipeline, ctx);
  };
  hooks.on_block = [&](int64_t i, const EngineReport& r) { print_block(i, m.num_layers(), r); };
  RowCompression rc = compress_row(lm, row, ctx, hooks);
  if (rc.report)
    std::cout << fmt::format("compressed: {:.3f} bits/weight, {:.3f} of the linear parameters kept ({:.1f} s)\n",
                             rc.report->bits_per_weight(), rc.report->params_kept(),
                             rc.report->calibrate_s + rc.report->compress_s + rc.report->refine_s);

  ExportRecipe recipe;
  recipe.format = format;
  recipe.row = &row;
  recipe.source = lm.identity;
  recipe.compression = &rc;
  recipe.seed = flags.seed;
  recipe.device = flags.device;
  recipe.command = command_line(argc, argv);
  if (rc.calibrated) recipe.calibration_files_sha256 = dataset_files_sha256(calibration, perplexity_data_dir(ctx), "train");
  if (eval) {
    m.to(ctx.device(), ctx.dtype());
    PerplexityResult r = dataset_perplexity(m, *lm.tokenizer, lm.tokenize, dataset, seq_len, eval_windows, eval_batch, ctx);
    std::cout << fmt::format("{} perplexity (in memory): {:.4f} ({} windows of {} tokens)\n", dataset, r.ppl, r.windows,
                             seq_len);
    recipe.eval_dataset = dataset;
    recipe.eval_ppl = r.ppl;
    recipe.eval_windows = r.windows;
    m.to(at::kCPU, ctx.dtype());
  }

  const c10::ScalarType dtype = save_dtype.empty() ? default_export_dtype(format, m) : dtype_from_name(save_dtype);
  recipe.dtype = dtype_name(dtype);
  const uint64_t source_bytes = folder_bytes(lm.dir());
  write_exported_model(m, format, out_dir, dtype, lm.dir());
  recipe.bytes = folder_bytes(out_dir);
  write_file_atomic(out_dir / "recipe.toml", to_toml(make_recipe(recipe)));
  std::cout << fmt::format("wrote {} ({}, {}; the source folder holds {})\n", out_dir.string(), export_format_name(format),
                           format_bytes(recipe.bytes), format_bytes(source_bytes));
  if (json) {
    nlohmann::json j = {{"out", out_dir.string()}, {"format", export_format_name(format)}, {"bytes", recipe.bytes},
                        {"pipeline", pipeline},    {"dtype", recipe.dtype}};
    if (rc.report) j["bits_per_weight"] = rc.report->bits_per_weight(), j["params_kept"] = rc.report->params_kept();
    if (recipe.eval_ppl) j["dataset"] = dataset, j["ppl"] = *recipe.eval_ppl, j["windows"] = recipe.eval_windows;
    std::cout << j.dump() << "\n";
  }
  return 0;
}

int cmd_eval(int argc, char** argv) {
  RunFlags flags;
  std::string model, dataset = "embedded";
  int64_t seq_len = 256, eval_windows = 0, eval_batch = 8;
  bool json = false;
  po::options_description desc("repro eval options");
  desc.add_options()
      ("model", po::value(&model)->required(), "an hf or compact folder (as repro compress writes), or zoo:NAME")
      ("dataset", po::value(&dataset)->default_value("embedded"), "embedded, wikitext2, c4, ptb")
      ("seq-len", po::value(&seq_len)->default_value(256), "evaluation window length (tokens)")
      ("eval-windows", po::value(&eval_windows)->default_value(0), "at most this many windows (0: all; c4: 256)")
      ("eval-batch", po::value(&eval_batch)->default_value(8), "windows per forward pass")
      ("json", po::bool_switch(&json), "end with one JSON line (model, format, dataset, ppl, windows, tokens)");
  add_run_flags(desc, flags);
  po::positional_options_description pos;
  pos.add("model", 1);
  po::variables_map vm;
  if (!parse(argc, argv, desc, pos, vm, "repro eval --model DIR [--dataset D --seq-len L] [options]")) return 0;
  if (seq_len < 2) throw UsageError(fmt::format("--seq-len {}: at least 2", seq_len));
  if (eval_windows < 0 || eval_batch < 1) throw UsageError("--eval-windows must be >= 0 and --eval-batch >= 1");
  text_dataset_info(dataset);  // ConfigError naming the datasets when unknown

  RunContext ctx(run_options(flags));
  const nlohmann::json identity = model_identity(model);
  const fs::path dir = identity["path"].get<std::string>();
  std::string format;
  std::unique_ptr<CausalLM> m;
  std::unique_ptr<Tokenizer> tok;
  {
    auto t = ctx.timer().scope("load");
    m = load_exported_model(dir, ctx.dtype(), &format);
    tok = Tokenizer::load(dir);
  }
  std::unique_ptr<TokenCache> cache;
  TokenizeOptions topts;
  topts.tokenizer_fingerprint = identity["sha256"].get<std::string>();
  if (!ctx.options().cache_dir.empty()) {
    cache = std::make_unique<TokenCache>(ctx.options().cache_dir / "tokens");
    topts.cache = cache.get();
  }
  m->to(ctx.device(), ctx.dtype());
  PerplexityResult r = dataset_perplexity(*m, *tok, topts, dataset, seq_len, eval_windows, eval_batch, ctx);
  std::cout << fmt::format("{} ({}): {} perplexity {:.4f} ({} windows of {} tokens, {:.1f} s)\n", model, format, dataset,
                           r.ppl, r.windows, seq_len, r.seconds);
  if (json)
    std::cout << nlohmann::json{{"model", model},     {"format", format},   {"dataset", dataset}, {"ppl", r.ppl},
                                {"windows", r.windows}, {"tokens", r.tokens}, {"seq_len", seq_len}}
                     .dump()
              << "\n";
  return 0;
}

}  // namespace repro::cli
