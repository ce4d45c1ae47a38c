#include "suites/perplexity/model_export.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/environment.h"
#include "core/error.h"
#include "models/compact_checkpoint.h"
#include "models/compressed_tensors.h"
#include "models/decoder_block.h"
#include "models/llama_io.h"

namespace repro {

namespace fs = std::filesystem;

namespace {

// The files beside the weights that tokenizers and generation read (whichever the source has).
constexpr const char* kTokenizerFiles[] = {"tokenizer.json",          "tokenizer.model",      "tokenizer_config.json",
                                           "special_tokens_map.json", "added_tokens.json",    "generation_config.json"};

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  if (!in) throw ModelError(fmt::format("{}: cannot be read", p.string()));
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::exception& e) {
    throw ModelError(fmt::format("{}: not valid JSON ({})", p.string(), e.what()));
  }
}

std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// JSON scalars (from model_identity, the environment) as Values; null stays null.
Value json_value(const nlohmann::json& j) {
  if (j.is_string()) return Value(j.get<std::string>());
  if (j.is_boolean()) return Value(j.get<bool>());
  if (j.is_number_integer()) return Value(j.get<int64_t>());
  if (j.is_number()) return Value(j.get<double>());
  return Value();
}

}  // namespace

ExportFormat parse_export_format(const std::string& name) {
  if (name == "hf" || name == "dense") return ExportFormat::Hf;
  if (name == "compressed-tensors") return ExportFormat::CompressedTensors;
  if (name == "compact") return ExportFormat::Compact;
  throw ConfigError(fmt::format("--format '{}' is not one of hf, compressed-tensors, compact", name));
}

std::string export_format_name(ExportFormat format) {
  switch (format) {
    case ExportFormat::Hf: return "hf";
    case ExportFormat::CompressedTensors: return "compressed-tensors";
    case ExportFormat::Compact: return "compact";
  }
  return "?";
}

c10::ScalarType default_export_dtype(ExportFormat format, const CausalLM& source) {
  if (format != ExportFormat::CompressedTensors) return at::kFloat;
  const std::string& t = source.config().torch_dtype;
  if (t == "float16") return at::kHalf;
  return at::kBFloat16;
}

void check_forward_exportable(ExportFormat format, const CausalLM& model) {
  try {
    require_plain_forward(model, export_format_name(format));
  } catch (const NotSupported& e) {
    throw ConfigError(fmt::format("--format {}: {}", export_format_name(format), e.what()));
  }
}

void check_compressor_exportable(ExportFormat format, LayerCompressor& compressor, CausalLM& model,
                                 const std::string& pipeline, RunContext& ctx) {
  if (format != ExportFormat::CompressedTensors) return;
  at::NoGradGuard no_grad;
  const Linear& lin = model.block(0).linear(DecoderBlock::linear_names().front());
  REPRO_ASSERT(lin.weight.defined(), "check_compressor_exportable: call it before the model is compressed");
  LayerProblem probe;
  probe.name = model.block(0).linear_path(DecoderBlock::linear_names().front()) + " (format probe)";
  probe.W = lin.weight.narrow(0, 0, std::min<int64_t>(lin.out_features(), 64)).to(ctx.device(), at::kFloat).clone();
  const int64_t in = probe.W.size(1), n = 256;
  at::Generator gen = ctx.generator("export.probe");
  at::Tensor X = at::randn({n, in}, gen).to(ctx.device());
  // H = (2/n) X^T X plus a ridge, so that n < in still gives a positive definite H.
  probe.H = X.t().mm(X).mul(2.0 / n) + at::eye(in, X.options()) * 0.1;
  if (compressor.needs_inputs()) probe.X = X;
  probe.n_samples = n;
  const CompressedLinear c = compressor.compress(probe, ctx);
  auto refuse = [&](const std::string& why) {
    return ConfigError(fmt::format("--format compressed-tensors cannot hold what '{}' produces: {}; write --format "
                                   "compact (or hf, dense weights) instead",
                                   pipeline, why));
  };
  if (c.has_low_rank()) throw refuse("low-rank factors (the format has no low-rank form)");
  if (c.has_sparse() && c.has_quant())
    throw refuse("sparse and quantized weights at once (llm-compressor writes those as marlin-24, not written here)");
  if (!c.has_sparse() && !c.has_quant()) throw refuse("plain weights, neither quantized nor sparse");
  if (c.has_quant()) {
    try {
      compressed_tensors::pack_quantized_layer(probe.name, c.quant(), at::kFloat);
    } catch (const NotSupported& e) {
      throw refuse(e.what());
    }
    if (c.quant().bits != 4 && c.quant().bits != 8)
      ctx.log().warn("--format compressed-tensors: {}-bit codes are valid in the format, but vLLM's kernels serve 4 and "
                     "8 bits",
                     c.quant().bits);
  }
}

void write_exported_model(CausalLM& model, ExportFormat format, const fs::path& dir, c10::ScalarType dtype,
                          const fs::path& source_dir) {
  // A folder written before in another format keeps no file that would change what it is read as
  // (compression.json marks a compact folder; a stale model.safetensors or shard would be loaded).
  std::error_code ec;
  if (fs::is_directory(dir, ec))
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      const std::string name = e.path().filename().string();
      const bool shard = name.rfind("model-", 0) == 0 && e.path().extension() == ".safetensors";
      if (shard || name == "config.json" || name == "recipe.toml" || name == "compression.json" ||
          name == "compressed.safetensors" || name == "model.safetensors" || name == "model.safetensors.index.json")
        fs::remove(e.path(), ec);
    }
  try {
    switch (format) {
      case ExportFormat::Hf: check_forward_exportable(format, model); save_causal_lm(model, dir, dtype); break;
      case ExportFormat::CompressedTensors: compressed_tensors::save_compressed_tensors(model, dir, dtype); break;
      case ExportFormat::Compact: save_compact_checkpoint(model, dir, dtype); break;
    }
  } catch (const NotSupported& e) {
    throw ConfigError(fmt::format("--format {}: {}", export_format_name(format), e.what()));
  }
  for (const char* f : kTokenizerFiles) {
    if (!fs::is_regular_file(source_dir / f, ec)) continue;
    fs::copy_file(source_dir / f, dir / f, fs::copy_options::overwrite_existing, ec);
    if (ec) throw IoError(fmt::format("{}: cannot copy {} ({})", dir.string(), f, ec.message()));
  }
}

std::string detect_model_format(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw ModelError(fmt::format("model folder {} not found", dir.string()));
  if (is_compact_checkpoint(dir)) return "compact";
  if (!fs::is_regular_file(dir / "config.json", ec))
    throw ModelError(fmt::format("{} has no config.json: not a model folder", dir.string()));
  if (read_json(dir / "config.json").contains("quantization_config")) return "compressed-tensors";
  return "hf";
}

std::unique_ptr<CausalLM> load_exported_model(const fs::path& dir, c10::ScalarType dtype, std::string* format) {
  const std::string f = detect_model_format(dir);
  if (format) *format = f;
  if (f == "compressed-tensors")
    throw ConfigError(fmt::format("{} is a compressed-tensors checkpoint (config.json has a quantization_config): serve "
                                  "it with vLLM; `repro eval` reads the hf and compact formats",
                                  dir.string()));
  if (f == "compact") return load_compact_checkpoint(dir, dtype);
  return load_causal_lm(dir, dtype, at::kCPU);
}

uint64_t folder_bytes(const fs::path& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file(ec)) total += e.file_size(ec);
  return total;
}

Value make_recipe(const ExportRecipe& r) {
  REPRO_ASSERT(r.row && r.compression, "make_recipe: row and compression are required");
  const RowSpec& row = *r.row;
  const RowCompression& rc = *r.compression;
  const Params& p = row.suite_params;
  const nlohmann::json env = capture_environment();
  Value::Table t;
  t["format"] = Value(export_format_name(r.format));
  t["dtype"] = Value(r.dtype);
  t["pipeline"] = Value(row.pipeline());
  t["created"] = Value(utc_now());
  if (!r.command.empty()) t["command"] = Value(r.command);
  t["reprobench"] = Value(Value::Table{{"git", json_value(env.value("git", nlohmann::json()))},
                                       {"libtorch", json_value(env.value("libtorch", nlohmann::json()))},
                                       {"device", Value(r.device)}});
  t["source"] = Value(Value::Table{{"model", json_value(r.source.value("name", nlohmann::json()))},
                                   {"sha256", json_value(r.source.value("sha256", nlohmann::json()))}});
  Value::Array comps;
  for (const Component& c : row.components)
    comps.push_back(Value(Value::Table{{"slot", Value(c.slot)},
                                       {"method", Value(c.method)},
                                       {"version", Value(c.info ? c.info->version : std::string())},
                                       {"spec", Value(c.canonical())},
                                       {"params", c.params.to_value()}}));
  t["components"] = Value(std::move(comps));
  Value::Table cal{{"used", Value(rc.calibrated)}, {"seed", Value(static_cast<int64_t>(r.seed))}};
  if (rc.calibrated) {
    cal["dataset"] = Value(p.get_string("calibration"));
    cal["files_sha256"] = Value(r.calibration_files_sha256);
    cal["tokens_sha256"] = Value(rc.calibration_tokens_sha256);
    cal["samples"] = Value(rc.calibration_samples);
    cal["seq_len"] = Value(rc.calibration_seqlen);
    cal["order"] = Value(p.get_string("order"));
    cal["batch"] = Value(p.get_int("calib_batch"));
    cal["input_samples"] = Value(p.get_int("input_samples"));
  }
  t["calibration"] = Value(std::move(cal));
  Value::Table storage{{"bytes", Value(static_cast<int64_t>(r.bytes))}};
  if (rc.report) {
    storage["bits_per_weight"] = Value(rc.report->bits_per_weight());
    storage["params_kept"] = Value(rc.report->params_kept());
  }
  t["storage"] = Value(std::move(storage));
  if (r.eval_ppl)
    t["eval"] = Value(Value::Table{{"dataset", Value(r.eval_dataset)},
                                   {"ppl", Value(*r.eval_ppl)},
                                   {"windows", Value(r.eval_windows)},
                                   {"seq_len", Value(p.get_int("seqlen"))}});
  return Value(std::move(t));
}

}  // namespace repro
