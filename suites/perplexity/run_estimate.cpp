#include "suites/perplexity/run_estimate.h"

#include <algorithm>
#include <vector>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "core/timing.h"
#include "methods/api/layer_compressor.h"

namespace repro {

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

struct Shape {
  int64_t out, in;
};

// The seven linears of one block, [out, in] (models/decoder_block.h).
std::vector<Shape> block_linears(const LlamaConfig& c) {
  const int64_t q = c.num_attention_heads * c.head_dim, kv = c.num_key_value_heads * c.head_dim;
  const int64_t D = c.hidden_size, I = c.intermediate_size;
  return {{q, D}, {kv, D}, {kv, D}, {D, q}, {I, D}, {I, D}, {D, I}};
}

// Inputs of the four calibration groups: {q,k,v} and {gate,up} read D values, o reads the
// attention output, down the gated product.
std::vector<int64_t> group_inputs(const LlamaConfig& c) {
  return {c.hidden_size, c.num_attention_heads * c.head_dim, c.hidden_size, c.intermediate_size};
}

}  // namespace

nlohmann::json RunEstimate::to_json() const {
  return {{"peak_mb", peak_mb},         {"seconds", seconds},   {"base_mb", base_mb},
          {"gemm_gflops", gemm_gflops}, {"solve_time_known", solve_time_known}, {"parts", parts}};
}

std::string RunEstimate::summary() const {
  std::string moment;
  double best = -1;
  for (const auto& [k, v] : parts["moments_mb"].items())
    if (v.get<double>() > best) best = v.get<double>(), moment = k;
  const auto& s = parts["seconds"];
  auto t = [](double sec) { return sec < 120 ? fmt::format("{:.0f} s", sec) : fmt::format("{:.1f} min", sec / 60.0); };
  return fmt::format("~{:.2f} GiB peak host memory ({} moment), ~{} (calibration {}, solve {}{}, eval {}) at {:.0f} GFLOP/s",
                     peak_mb / 1024.0, moment, t(seconds), t(s.value("calibrate", 0.0)), t(s.value("solve", 0.0)),
                     solve_time_known ? "" : " unknown", t(s.value("eval", 0.0)), gemm_gflops);
}

RunEstimate estimate_run(const RunPlan& p, double base_mb, double gemm_gflops) {
  const LlamaConfig& c = p.config;
  const double item = static_cast<double>(c10::elementSize(p.dtype));
  const double D = static_cast<double>(c.hidden_size), V = static_cast<double>(c.vocab_size);
  const double I = static_cast<double>(c.intermediate_size), L = static_cast<double>(c.num_hidden_layers);
  const double Hq = static_cast<double>(c.num_attention_heads), Hkv = static_cast<double>(c.num_key_value_heads);
  const double hd = static_cast<double>(c.head_dim);
  const std::vector<Shape> linears = block_linears(c);

  double linear_params = 0;
  for (const Shape& s : linears) linear_params += static_cast<double>(s.out) * static_cast<double>(s.in);
  const double block_b = (linear_params + 2 * D) * item;
  const double embed_b = V * D * item;
  const double head_b = embed_b + D * item;

  // Activation buffers (bytes).
  const double Tc = static_cast<double>(p.calib_seqlen), Te = static_cast<double>(p.seqlen);
  const double calib_b = p.needs_calibration ? static_cast<double>(p.calib_samples) * Tc * D * item : 0;
  const double targets_b = p.refiner ? calib_b : 0;
  const double eval_b = p.streamed ? static_cast<double>(p.eval_windows) * Te * D * item : 0;
  // One batch through a block: residual stream and norms, q/k/v, two attention score matrices, the
  // MLP's three intermediate products.
  auto forward_b = [&](double b, double T) {
    return b * T * (6 * D + (Hq + 2 * Hkv) * hd + 3 * I) * item + 2 * b * Hq * T * T * 4;
  };
  const double fwd_b = std::max(p.needs_calibration ? forward_b(static_cast<double>(p.calib_batch), Tc) : 0.0,
                                forward_b(static_cast<double>(p.eval_batch), Te));

  // Compression working set: the block's Hessians (fp32; all four groups at once in parallel
  // order), the largest layer's fp32 copy + reconstruction + solver workspace, and the compressed
  // forms built so far (bounded by 5 bytes per weight: fp32 values + mask).
  double hess_b = 0, solve_b = 0, held_b = 0;
  bool known = true;
  if (p.compressor) {
    for (int64_t n : group_inputs(c)) {
      const double h = 4.0 * static_cast<double>(n) * static_cast<double>(n);
      hess_b = p.sequential_order ? std::max(hess_b, h) : hess_b + h;
    }
    if (!p.needs_calibration) hess_b = 0;
    for (const Shape& s : linears) {
      const double w = static_cast<double>(s.out) * static_cast<double>(s.in);
      const double extra = p.compressor->solve_bytes(s.out, s.in);
      if (extra < 0) known = false;
      solve_b = std::max(solve_b, 8.0 * w + std::max(0.0, extra));
    }
    held_b = 5.0 * linear_params;
  }

  nlohmann::json moments, mem;
  const double stored_embed = V * D * static_cast<double>(p.stored_itemsize);
  if (p.streamed) {
    moments["embed"] = (stored_embed + embed_b + calib_b + eval_b) / kMiB;
    moments["block"] = (block_b + hess_b + solve_b + held_b + calib_b + targets_b + eval_b + fwd_b) / kMiB;
    const double logits_b = 3.0 * static_cast<double>(p.eval_batch) * Te * V * 4;
    moments["head"] = (head_b + eval_b + logits_b) / kMiB;
  } else {
    const double model_b = L * block_b + embed_b + (c.tie_word_embeddings ? 0 : embed_b);
    moments["compress"] = (model_b + hess_b + solve_b + calib_b + targets_b + fwd_b) / kMiB;
    moments["eval"] = (model_b + fwd_b + 3.0 * static_cast<double>(p.eval_batch) * Te * V * 4) / kMiB;
  }
  mem = {{"block_weights", block_b / kMiB}, {"embeddings", embed_b / kMiB},    {"hessians", hess_b / kMiB},
         {"solver", solve_b / kMiB},        {"compressed_forms_bound", held_b / kMiB},
         {"calibration_activations", calib_b / kMiB}, {"eval_activations", eval_b / kMiB},
         {"forward_batch", fwd_b / kMiB}};

  // Time.
  const double attn_per_token = 4.0 * Hq * hd;  // x T: QK^T and AV
  auto block_flops = [&](double tokens, double T) { return tokens * (2.0 * linear_params + attn_per_token * T); };
  double passes = 0;
  if (p.needs_calibration) passes = p.sequential_order ? 5 : 2;
  const double calib_f = L * passes * block_flops(static_cast<double>(p.calib_samples) * Tc, Tc);
  double solve_f = 0;
  if (p.compressor)
    for (const Shape& s : linears) {
      const double f = p.compressor->solve_flops(s.out, s.in);
      if (f < 0) known = false;
      solve_f += L * std::max(0.0, f);
    }
  const double eval_tokens = static_cast<double>(p.eval_windows) * Te;
  const double eval_f = L * block_flops(eval_tokens, Te) + 2.0 * V * D * eval_tokens;
  const double rate = std::max(1e-3, gemm_gflops) * 1e9;

  RunEstimate e;
  e.base_mb = base_mb;
  e.gemm_gflops = gemm_gflops;
  e.solve_time_known = known;
  double peak = 0;
  for (const auto& [k, v] : moments.items()) peak = std::max(peak, v.get<double>());
  e.peak_mb = base_mb + peak;
  e.parts = {{"moments_mb", moments},
             {"memory_mb", mem},
             {"seconds", {{"calibrate", calib_f / rate}, {"solve", solve_f / rate}, {"eval", eval_f / rate}}},
             {"gflop", {{"calibrate", calib_f / 1e9}, {"solve", solve_f / 1e9}, {"eval", eval_f / 1e9}}}};
  e.seconds = (calib_f + solve_f + eval_f) / rate;
  return e;
}

double measure_gemm_gflops() {
  at::NoGradGuard no_grad;
  const int64_t n = 1024;
  at::Tensor a = at::randn({n, n}), b = at::randn({n, n}), c = at::empty({n, n});
  at::mm_out(c, a, b);  // warm-up
  Stopwatch w;
  int reps = 0;
  while (w.seconds() < 0.25 || reps < 2) {
    at::mm_out(c, a, b);
    ++reps;
  }
  return 2.0 * static_cast<double>(n * n * n) * reps / w.seconds() / 1e9;
}

}  // namespace repro
