// GPU kernels for compressed inference and training (kernels/cuda/) against cuBLAS fp16, at
// Llama-3-8B layer shapes (out x in: 4096x4096, 1024x4096, 14336x4096, 4096x14336).
//
//   bench_cuda_kernels [--reps=N] [--benchmark_filter=REGEX] [--benchmark_out=F --benchmark_out_format=json]
//
// Benchmarks (name: <case>/<out>x<in>/b<batch>):
//   q4g128, q3g128, q2g128   low-bit GEMV (lowbit_gemv.h), batch 1, 16, 64
//   2:4, 2:4+lr64            cuSPARSELt 2:4 GEMM and S + LR (rank 64), batch 16, 64, 256, 2048
//   nm_train                 transposable 2:4 forward + both backward products, 2048 tokens
//   dykstra/m<M>             TSENOR's Dykstra on a 4096 x 4096 score matrix, M x M tiles, n = M / 2,
//                            against the libtorch batched-tensor version on the GPU
// Protocol: weights rotate over enough copies to exceed 256 MB (defeating the 50-60 MB L2); each
// case is checked against a CPU reference on sampled outputs first and is NOT timed when the
// check fails (the error names the first mismatch); warm-up outside timing; candidate and
// baseline alternate, each timed by cudaEvents over a run of calls; the reported time is the
// candidate's median. Counters: p10_us, p90_us, base_us (baseline median), GBps (candidate bytes
// read / median), bw_pct (of the device-to-device copy bandwidth measured at start-up, in this
// run), TFLOPs (the dense product's 2 out in batch / median), speedup (median of paired
// baseline / candidate ratios). The context block holds the GPU name, clocks, driver and the copy
// bandwidth. Without a CUDA device the program says so and exits with status 1.

#include <benchmark/benchmark.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "bench/cuda_timing.h"
#include "kernels/cuda/cublas_gemm.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/cusparselt_loader.h"
#include "kernels/cuda/device_buffer.h"
#include "kernels/cuda/device_info.h"
#include "kernels/cuda/dykstra_cuda.h"
#include "kernels/cuda/host_device.h"
#include "kernels/cuda/lowbit_gemv.h"
#include "kernels/cuda/sparse24_gemm_gpu.h"
#include "kernels/cuda/sparse_lowrank_gpu.h"
#include "kernels/cuda/transposable_nm_gpu.h"
#include "methods/common/transposable.h"

namespace {

using namespace repro::kernels::gpu;
namespace ct = repro::bench::cuda_timing;

int g_reps = 20;
double g_copy_gbps = 0;
std::unique_ptr<CublasHandle> g_cublas;
constexpr cudaStream_t kStream = nullptr;  // the legacy default stream: libtorch's too
constexpr double kRotateBytes = 256e6;

struct Shape {
  int64_t out, in;
};
const std::vector<Shape> kShapes = {{4096, 4096}, {1024, 4096}, {14336, 4096}, {4096, 14336}};

int copies_for(double bytes) { return static_cast<int>(std::clamp(std::ceil(kRotateBytes / bytes), 2.0, 16.0)); }

std::vector<uint16_t> to_half(const std::vector<float>& v, std::vector<float>* rounded = nullptr) {
  std::vector<uint16_t> h(v.size());
  if (rounded) rounded->resize(v.size());
  for (size_t k = 0; k < v.size(); ++k) {
    h[k] = float_to_half_bits(v[k]);
    if (rounded) (*rounded)[k] = half_bits_to_float(h[k]);
  }
  return h;
}

DeviceBuffer<__half> upload_half(const std::vector<uint16_t>& h) {
  DeviceBuffer<__half> d(h.size());
  d.upload(reinterpret_cast<const __half*>(h.data()), h.size());
  return d;
}

std::vector<float> random_vector(size_t n, float scale, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.0f, scale);
  std::vector<float> v(n);
  for (float& f : v) f = nd(rng);
  return v;
}

// Sampled check of y [batch, out] (device fp16, row stride out) against ref(b, r) = {value,
// magnitude}: |y - value| <= 2^-10 |value| + 1e-3 magnitude + 1e-4. Empty string when it passes.
std::string check_sampled(const DeviceBuffer<__half>& y, int64_t batch, int64_t out,
                          const std::function<std::pair<double, double>(int64_t, int64_t)>& ref) {
  check_cuda(cudaDeviceSynchronize(), "check");
  const std::vector<__half> h = y.download();
  std::mt19937 rng(7);
  std::vector<int64_t> rows = {0, out - 1, out / 2}, bs = {0, batch - 1, batch / 2};
  for (int k = 0; k < 29; ++k) rows.push_back(static_cast<int64_t>(rng() % out));
  for (int64_t b : bs)
    for (int64_t r : rows) {
      uint16_t bits;
      std::memcpy(&bits, &h[b * out + r], sizeof bits);
      const double got = half_bits_to_float(bits);
      const auto [want, mag] = ref(b, r);
      if (!(std::abs(got - want) <= std::abs(want) * std::ldexp(1.0, -10) + 1e-3 * mag + 1e-4))
        return fmt::format("output [{}, {}] is {} but the reference says {}", b, r, got, want);
    }
  return "";
}

// Checks the candidate's and cuBLAS's outputs; on a failure marks the benchmark skipped (nothing is
// timed) and returns false.
bool both_pass_check(benchmark::State& state, const DeviceBuffer<__half>& yc, const DeviceBuffer<__half>& yb,
                     int64_t batch, int64_t out,
                     const std::function<std::pair<double, double>(int64_t, int64_t)>& ref) {
  for (const auto& [what, y] : {std::pair<const char*, const DeviceBuffer<__half>*>{"candidate", &yc}, {"cuBLAS", &yb}})
    if (const std::string e = check_sampled(*y, batch, out, ref); !e.empty()) {
      state.SkipWithError(fmt::format("{} failed its check, not timed: {}", what, e).c_str());
      return false;
    }
  return true;
}

void report(benchmark::State& state, const ct::Pair& p, double bytes, double flops) {
  state.SetIterationTime(p.candidate.median);
  state.counters["p10_us"] = p.candidate.p10 * 1e6;
  state.counters["p90_us"] = p.candidate.p90 * 1e6;
  state.counters["base_us"] = p.baseline.median * 1e6;
  state.counters["GBps"] = bytes / p.candidate.median / 1e9;
  state.counters["bw_pct"] = 100.0 * bytes / p.candidate.median / 1e9 / g_copy_gbps;
  state.counters["TFLOPs"] = flops / p.candidate.median / 1e12;
  state.counters["speedup"] = p.speedup;
}

// ---- low-bit GEMV ---------------------------------------------------------------------------

struct LowBitCase {
  int bits = 0;
  Shape shape{};
  std::vector<uint8_t> codes;
  std::vector<float> scales, zeros;  // the fp16-effective values
  PackedLowBitGpu packed;
  std::vector<LowBitGpuWeight> weights;
  std::vector<DeviceBuffer<__half>> dense;  // dequantized fp16 copies (the baseline)
};

std::unique_ptr<LowBitCase> g_lowbit_case;  // the last case's weights, reused across batches

LowBitCase& lowbit_case(int bits, Shape s) {
  std::unique_ptr<LowBitCase>& c = g_lowbit_case;
  if (c && c->bits == bits && c->shape.out == s.out && c->shape.in == s.in) return *c;
  c.reset();
  c = std::make_unique<LowBitCase>();
  c->bits = bits;
  c->shape = s;
  std::mt19937 rng(11);
  const int64_t ng = s.in / 128;
  c->codes.resize(s.out * s.in);
  for (uint8_t& v : c->codes) v = static_cast<uint8_t>(rng() % (1u << bits));
  std::vector<float> sc(s.out * ng), ze(s.out * ng);
  std::uniform_real_distribution<float> ud(0.005f, 0.05f);
  for (float& v : sc) v = ud(rng);
  for (float& v : ze) v = static_cast<float>(rng() % (1u << bits));
  c->packed = pack_lowbit_gpu(c->codes.data(), sc.data(), ze.data(), s.out, s.in, bits, 128);
  c->scales.resize(sc.size());
  c->zeros.resize(ze.size());
  lowbit_gpu_effective_params(c->packed, c->scales.data(), c->zeros.data());
  for (int k = copies_for(static_cast<double>(c->packed.bytes_read())); k > 0; --k)
    c->weights.push_back(upload_lowbit(c->packed));
  std::vector<float> deq(s.out * s.in);
  for (int64_t r = 0; r < s.out; ++r)
    for (int64_t k = 0; k < s.in; ++k)
      deq[r * s.in + k] = c->scales[r * ng + k / 128] * (c->codes[r * s.in + k] - c->zeros[r * ng + k / 128]);
  const std::vector<uint16_t> h = to_half(deq);
  for (int k = copies_for(2.0 * s.out * s.in); k > 0; --k) c->dense.push_back(upload_half(h));
  return *c;
}

void run_lowbit(benchmark::State& state, int bits, Shape s, int64_t batch) {
  LowBitCase& c = lowbit_case(bits, s);
  std::mt19937 rng(13);
  std::vector<float> xr;
  const std::vector<uint16_t> xh = to_half(random_vector(batch * s.in, 1.0f, rng), &xr);
  DeviceBuffer<__half> x = upload_half(xh), yc(batch * s.out), yb(batch * s.out);
  auto cand = [&](int i) {
    lowbit_gemv(c.weights[i % c.weights.size()], x.get(), batch, s.in, yc.get(), s.out, kStream);
  };
  auto base = [&](int i) {
    dense_linear_fp16(*g_cublas, c.dense[i % c.dense.size()].get(), s.out, s.in, s.in, x.get(), batch, s.in, yb.get(),
                      s.out, 0.0f, kStream);
  };
  const int64_t ng = s.in / 128;
  auto ref = [&](int64_t b, int64_t r) {
    double v = 0, m = 0;
    for (int64_t k = 0; k < s.in; ++k) {
      const double w = c.scales[r * ng + k / 128] * (c.codes[r * s.in + k] - c.zeros[r * ng + k / 128]);
      v += w * xr[b * s.in + k];
      m += std::abs(w * xr[b * s.in + k]);
    }
    return std::make_pair(v, m);
  };
  cand(0);
  base(0);
  if (!both_pass_check(state, yc, yb, batch, s.out, ref)) return;
  ct::Pair p;
  for (auto _ : state) p = ct::time_pair(cand, base, g_reps, 10, kStream);
  report(state, p, static_cast<double>(c.packed.bytes_read()), 2.0 * s.out * s.in * batch);
}

// ---- 2:4 and S + LR ---------------------------------------------------------------------------

struct SparseCase {
  Shape shape{};
  std::vector<float> S, U, V;                          // fp16-rounded values; U [out, 64], V [64, in]
  std::vector<DeviceBuffer<__half>> dense, dense_slr;  // S, and S + U V, fp16 copies
  std::vector<std::unique_ptr<Sparse24GemmGpu>> sparse;
  std::vector<std::unique_ptr<SparseLowRankGpu>> slr;
};
constexpr int64_t kRank = 64;

std::unique_ptr<SparseCase> g_sparse_case;

SparseCase& sparse_case(Shape s) {
  std::unique_ptr<SparseCase>& c = g_sparse_case;
  if (c && c->shape.out == s.out && c->shape.in == s.in) return *c;
  c.reset();
  c = std::make_unique<SparseCase>();
  c->shape = s;
  std::mt19937 rng(17);
  std::vector<float> w = random_vector(s.out * s.in, 0.05f, rng);
  for (int64_t g = 0; g < s.out * s.in; g += 4) {  // keep the two largest |w| of every 4
    int a = 0, b = 1;
    if (std::abs(w[g + b]) > std::abs(w[g + a])) std::swap(a, b);
    for (int k = 2; k < 4; ++k) {
      if (std::abs(w[g + k]) > std::abs(w[g + a]))
        b = a, a = k;
      else if (std::abs(w[g + k]) > std::abs(w[g + b]))
        b = k;
    }
    for (int k = 0; k < 4; ++k)
      if (k != a && k != b) w[g + k] = 0.0f;
  }
  const std::vector<uint16_t> sh = to_half(w, &c->S);
  const std::vector<uint16_t> uh = to_half(random_vector(s.out * kRank, 0.05f, rng), &c->U);
  const std::vector<uint16_t> vh = to_half(random_vector(kRank * s.in, 0.05f, rng), &c->V);
  DeviceBuffer<__half> du = upload_half(uh), dv = upload_half(vh), vt(kRank * s.in);
  transpose_fp16(dv.get(), kRank, s.in, vt.get(), kStream);
  for (int k = copies_for(2.0 * s.out * s.in); k > 0; --k) {
    c->dense.push_back(upload_half(sh));
    // The dense baseline of S + LR: S + U V in one fp16 matrix (cuBLAS: U (V^T)^T + 1 * S).
    c->dense_slr.push_back(upload_half(sh));
    dense_linear_fp16(*g_cublas, vt.get(), s.in, kRank, kRank, du.get(), s.out, kRank, c->dense_slr.back().get(), s.in,
                      1.0f, kStream);
  }
  for (int k = copies_for(1.125 * s.out * s.in); k > 0; --k) {
    DeviceBuffer<__half> d = upload_half(sh);
    c->sparse.push_back(std::make_unique<Sparse24GemmGpu>(d.get(), s.out, s.in, kStream));
    c->slr.push_back(
        std::make_unique<SparseLowRankGpu>(d.get(), true, s.out, s.in, du.get(), dv.get(), kRank, kStream));
  }
  return *c;
}

void run_sparse(benchmark::State& state, Shape s, int64_t batch, bool lowrank) {
  std::string why;
  if (!cusparselt::available(&why)) {
    state.SkipWithError(why.c_str());
    return;
  }
  SparseCase& c = sparse_case(s);
  std::mt19937 rng(19);
  std::vector<float> xr;
  DeviceBuffer<__half> x = upload_half(to_half(random_vector(batch * s.in, 1.0f, rng), &xr));
  DeviceBuffer<__half> yc(batch * s.out), yb(batch * s.out);
  auto cand = [&](int i) {
    if (lowrank)
      c.slr[i % c.slr.size()]->run(*g_cublas, x.get(), batch, s.in, yc.get(), s.out, kStream);
    else
      c.sparse[i % c.sparse.size()]->run(x.get(), batch, s.in, yc.get(), s.out, 0.0f, kStream);
  };
  auto& dense = lowrank ? c.dense_slr : c.dense;
  auto base = [&](int i) {
    dense_linear_fp16(*g_cublas, dense[i % dense.size()].get(), s.out, s.in, s.in, x.get(), batch, s.in, yb.get(),
                      s.out, 0.0f, kStream);
  };
  auto ref = [&](int64_t b, int64_t r) {
    double v = 0, m = 0;
    for (int64_t k = 0; k < s.in; ++k) {
      v += static_cast<double>(c.S[r * s.in + k]) * xr[b * s.in + k];
      m += std::abs(static_cast<double>(c.S[r * s.in + k]) * xr[b * s.in + k]);
    }
    if (lowrank)
      for (int64_t j = 0; j < kRank; ++j) {
        double t = 0, tm = 0;
        for (int64_t k = 0; k < s.in; ++k) {
          t += static_cast<double>(c.V[j * s.in + k]) * xr[b * s.in + k];
          tm += std::abs(static_cast<double>(c.V[j * s.in + k]) * xr[b * s.in + k]);
        }
        v += t * c.U[r * kRank + j];
        m += tm * std::abs(c.U[r * kRank + j]);
      }
    return std::make_pair(v, m);
  };
  cand(0);
  base(0);
  if (!both_pass_check(state, yc, yb, batch, s.out, ref)) return;
  ct::Pair p;
  for (auto _ : state) p = ct::time_pair(cand, base, g_reps, batch >= 256 ? 3 : 10, kStream);
  const double bytes =
      static_cast<double>(c.sparse[0]->compressed_bytes()) + (lowrank ? 2.0 * kRank * (s.out + s.in) : 0);
  report(state, p, bytes, 2.0 * s.out * s.in * batch);
}

// ---- transposable 2:4 training step -------------------------------------------------------------

void run_nm_train(benchmark::State& state, Shape s, int64_t tokens) {
  std::string why;
  if (!cusparselt::available(&why)) {
    state.SkipWithError(why.c_str());
    return;
  }
  std::mt19937 rng(23);
  std::vector<uint8_t> mask(s.out * s.in, 0);
  for (int64_t r0 = 0; r0 < s.out; r0 += 4)
    for (int64_t c0 = 0; c0 < s.in; c0 += 4) {
      int p[4] = {0, 1, 2, 3};
      std::shuffle(p, p + 4, rng);
      for (int i = 0; i < 4; ++i)
        for (int t = 0; t < 2; ++t) mask[(r0 + i) * s.in + c0 + (p[i] + t) % 4] = 1;
    }
  std::vector<float> w = random_vector(s.out * s.in, 0.05f, rng), wr, xr;
  for (size_t k = 0; k < w.size(); ++k) w[k] *= mask[k];
  DeviceBuffer<__half> W = upload_half(to_half(w, &wr));
  DeviceBuffer<uint8_t> M(mask);
  DeviceBuffer<__half> x = upload_half(to_half(random_vector(tokens * s.in, 1.0f, rng), &xr));
  DeviceBuffer<__half> dy = upload_half(to_half(random_vector(tokens * s.out, 1.0f, rng)));
  DeviceBuffer<__half> y(tokens * s.out), dx(tokens * s.in), dW(s.out * s.in);
  TransposableSparseLinearGpu layer(W.get(), M.get(), s.out, s.in, kStream);
  auto cand = [&](int) {
    layer.forward(x.get(), tokens, s.in, y.get(), s.out, kStream);
    layer.backward_input(dy.get(), tokens, s.out, dx.get(), s.in, kStream);
    layer.backward_weight(*g_cublas, dy.get(), tokens, s.out, x.get(), s.in, dW.get(), kStream);
  };
  auto base = [&](int) {
    dense_linear_fp16(*g_cublas, W.get(), s.out, s.in, s.in, x.get(), tokens, s.in, y.get(), s.out, 0.0f, kStream);
    dense_linear_backward_input_fp16(*g_cublas, W.get(), s.out, s.in, s.in, dy.get(), tokens, s.out, dx.get(), s.in,
                                     kStream);
    dense_linear_backward_weight_fp16(*g_cublas, dy.get(), tokens, s.out, s.out, x.get(), s.in, s.in, dW.get(), s.in,
                                      kStream);
  };
  cand(0);
  const std::string e = check_sampled(y, tokens, s.out, [&](int64_t b, int64_t r) {
    double v = 0, m = 0;
    for (int64_t k = 0; k < s.in; ++k) {
      v += static_cast<double>(wr[r * s.in + k]) * xr[b * s.in + k];
      m += std::abs(static_cast<double>(wr[r * s.in + k]) * xr[b * s.in + k]);
    }
    return std::make_pair(v, m);
  });
  if (!e.empty()) {
    state.SkipWithError(fmt::format("transposable forward failed its check, not timed: {}", e).c_str());
    return;
  }
  ct::Pair p;
  for (auto _ : state) p = ct::time_pair(cand, base, g_reps / 2, 2, kStream);
  report(state, p, 1.125 * s.out * s.in * 2, 3 * 2.0 * s.out * s.in * tokens);
}

// ---- Dykstra ------------------------------------------------------------------------------------

void run_dykstra(benchmark::State& state, int m) {
  if (!at::hasCUDA()) {
    state.SkipWithError("this libtorch has no CUDA: the libtorch baseline cannot run on the GPU");
    return;
  }
  const int n = m / 2;
  const int64_t size = 4096;
  at::Tensor scores = at::_standard_gamma(at::full({size, size}, 1.5)).reciprocal().mul(1.5).sqrt() *
                      at::randn({size, size});  // Student-t(3): z / sqrt(chi2_3 / 3)
  at::Tensor A = repro::to_blocks(scores.abs().to(at::kFloat), m);
  const int64_t tiles = A.size(0);
  at::Tensor Ad = A.to(at::kCUDA);
  DeviceBuffer<float> S(A.numel());
  DeviceBuffer<int32_t> iters(tiles);
  DykstraGpuOptions o;
  o.tol = 1e-3;
  repro::DykstraOptions co;
  co.tau = o.tau;
  co.iters = o.iters;
  co.tol = o.tol;
  co.batched_tensor = true;
  repro::DykstraResult base_result;
  auto cand = [&](int) { dykstra_gpu(Ad.data_ptr<float>(), tiles, m, n, o, S.get(), iters.get(), kStream); };
  auto base = [&](int) { base_result = repro::dykstra_transposable(Ad, n, co); };
  cand(0);
  base(0);
  check_cuda(cudaDeviceSynchronize(), "dykstra");
  at::Tensor Sg = at::empty_like(A);
  const std::vector<float> sv = S.download();
  std::copy(sv.begin(), sv.end(), Sg.data_ptr<float>());
  const at::Tensor mg = repro::greedy_round(Sg, A, n), mb = repro::greedy_round(base_result.S.cpu(), A, n);
  const double same = mg.eq(mb).flatten(1).all(1).to(at::kDouble).mean().item<double>();
  state.counters["same_mask_pct"] = 100.0 * same;
  if (same < 0.99) {
    state.SkipWithError(
        fmt::format("the kernel's masks match libtorch's on only {:.2f}% of tiles, not timed", 100.0 * same).c_str());
    return;
  }
  ct::Pair p;
  for (auto _ : state) p = ct::time_pair(cand, base, std::max(3, g_reps / 4), 1, kStream);
  report(state, p, 2.0 * 4.0 * A.numel(), 0.0);
}

void add_context() {
  const DeviceInfo d = device_info(0);
  benchmark::AddCustomContext("gpu_name", d.name);
  benchmark::AddCustomContext("gpu_compute_capability", fmt::format("{}.{}", d.major, d.minor));
  benchmark::AddCustomContext("gpu_sm_count", std::to_string(d.sm_count));
  benchmark::AddCustomContext("gpu_memory_gib", fmt::format("{:.1f}", d.memory_bytes / 1073741824.0));
  benchmark::AddCustomContext("gpu_peak_sm_clock_mhz", std::to_string(d.peak_sm_clock_mhz));
  benchmark::AddCustomContext("gpu_peak_memory_clock_mhz", std::to_string(d.peak_memory_clock_mhz));
  benchmark::AddCustomContext("gpu_sm_clock_mhz_at_start", std::to_string(d.current_sm_clock_mhz));
  benchmark::AddCustomContext("gpu_memory_clock_mhz_at_start", std::to_string(d.current_memory_clock_mhz));
  benchmark::AddCustomContext("gpu_memory_bus_bits", std::to_string(d.memory_bus_bits));
  benchmark::AddCustomContext("driver_version", d.driver_version.empty() ? "unknown (no NVML)" : d.driver_version);
  benchmark::AddCustomContext("cuda_driver_api", std::to_string(d.driver_api_version));
  benchmark::AddCustomContext("cuda_runtime", std::to_string(d.runtime_version));
  std::string why;
  benchmark::AddCustomContext("cusparselt",
                              cusparselt::available(&why)
                                  ? fmt::format("{} (version {})", cusparselt::api().path, cusparselt::api().version)
                                  : "not loadable");
  g_copy_gbps = ct::copy_gbps(size_t{1} << 30, kStream);
  benchmark::AddCustomContext("d2d_copy_GBps", fmt::format("{:.1f}", g_copy_gbps));
  benchmark::AddCustomContext("reps", std::to_string(g_reps));
}

void register_all() {
  auto reg = [](const std::string& name, std::function<void(benchmark::State&)> f) {
    benchmark::RegisterBenchmark(name.c_str(),
                                 [f](benchmark::State& st) {
                                   try {
                                     f(st);
                                   } catch (const std::exception& e) {
                                     st.SkipWithError(e.what());
                                   }
                                 })
        ->Iterations(1)
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
  };
  for (int bits : {4, 3, 2})
    for (const Shape& s : kShapes)
      for (int64_t b : {1, 16, 64})
        reg(fmt::format("q{}g128/{}x{}/b{}", bits, s.out, s.in, b),
            [bits, s, b](benchmark::State& st) { run_lowbit(st, bits, s, b); });
  for (bool lr : {false, true})
    for (const Shape& s : kShapes)
      for (int64_t b : {16, 64, 256, 2048})
        reg(fmt::format("{}/{}x{}/b{}", lr ? "2:4+lr64" : "2:4", s.out, s.in, b),
            [s, b, lr](benchmark::State& st) { run_sparse(st, s, b, lr); });
  for (const Shape& s : kShapes)
    reg(fmt::format("nm_train/{}x{}/b2048", s.out, s.in), [s](benchmark::State& st) { run_nm_train(st, s, 2048); });
  for (int m : {4, 8, 16})
    reg(fmt::format("dykstra/m{}/4096x4096", m), [m](benchmark::State& st) { run_dykstra(st, m); });
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--reps=", 7) == 0) {
      g_reps = std::max(3, std::atoi(argv[i] + 7));
      continue;
    }
    args.push_back(argv[i]);
  }
  if (cuda_device_count() == 0) {
    std::fprintf(stderr, "bench_cuda_kernels: no CUDA device (cudaGetDeviceCount reports none); nothing to time\n");
    return 1;
  }
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  g_cublas = std::make_unique<CublasHandle>();
  add_context();
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  // Device objects go before the CUDA runtime and cuSPARSELt tear down at exit.
  g_lowbit_case.reset();
  g_sparse_case.reset();
  g_cublas.reset();
  return 0;
}
