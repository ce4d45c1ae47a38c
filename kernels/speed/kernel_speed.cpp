#include "kernels/speed/kernel_speed.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <regex>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "core/error.h"
#include "kernels/dense_gemm.h"
#include "kernels/lowbit_gemm.h"
#include "kernels/sparse24_gemm.h"
#include "kernels/sparse_lowrank.h"
#include "kernels/stream_triad.h"

namespace repro::kernels::speed {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int64_t kCheckRows = 32;  // outputs checked at each end of the weight

int copies_for(double bytes, double min_mb) {
  return std::max(2, static_cast<int>(std::ceil(min_mb * 1e6 / std::max(1.0, bytes))));
}

// The canonical weight of one case (what a method would produce), its packed copies, and the
// per-weight magnitudes |w| (|scale| (code + |zero|) for codes) that bound the check's error.
struct Candidate {
  std::string key;
  at::Tensor codes, scales, zeros;      // low-bit canonical
  at::Tensor values, indices, s_dense;  // 2:4 canonical and its dense form
  at::Tensor dense;                     // fp32 kernel
  at::Tensor U, V;                      // low-rank factors
  at::Tensor magnitude;                 // [rows, cols]
  std::vector<PackedLowBit> lowbit;
  std::vector<Packed24> sparse;
  std::vector<at::Tensor> dense_copies, u_copies, v_copies;
  int64_t bytes = 0;
};

struct Baseline {
  std::string key;
  std::vector<at::Tensor> copies;  // [rows, cols] fp32
};

// The last case's weights, kept so that a sweep over batch sizes builds them once.
Candidate& cached_candidate() {
  static Candidate c;
  return c;
}
Baseline& cached_baseline() {
  static Baseline b;
  return b;
}

Candidate& candidate_for(const CaseSpec& s) {
  Candidate& c = cached_candidate();
  const std::string key = fmt::format("{}/{}x{}/{}/{}", s.format.name, s.rows, s.cols, s.seed, s.min_buffer_mb);
  if (c.key == key) return c;
  c = Candidate{};
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(s.seed + 1);
  const Format& f = s.format;
  int copies = 0;
  if (f.kind == Format::kLowBit) {
    const int64_t ng = (s.cols + f.group - 1) / f.group;
    c.codes = at::randint(0, int64_t{1} << f.bits, {s.rows, s.cols}, g, at::kByte);
    c.scales = (at::rand({s.rows, ng}, g) + 0.5) * 0.01;
    c.zeros = at::randint(0, int64_t{1} << f.bits, {s.rows, ng}, g, at::kFloat);
    at::Tensor gi = at::arange(s.cols, at::kLong).div(f.group, "floor");
    c.magnitude = c.scales.index_select(1, gi) * (c.codes.to(at::kFloat) + c.zeros.index_select(1, gi));
    PackedLowBit p = pack_lowbit(c.codes.data_ptr<uint8_t>(), c.scales.data_ptr<float>(), c.zeros.data_ptr<float>(),
                                 s.rows, s.cols, f.bits, f.group);
    c.bytes = p.bytes_read();
    copies = copies_for(static_cast<double>(c.bytes), s.min_buffer_mb);
    c.lowbit.assign(copies, p);
  } else if (f.kind == Format::kSparse24) {
    at::Tensor mask = at::rand({s.rows, s.cols / 4, 4}, g).argsort().lt(2).reshape({s.rows, s.cols}).contiguous();
    c.s_dense = (at::randn({s.rows, s.cols}, g) * 0.02 * mask).contiguous();
    c.values = at::empty({s.rows, s.cols / 2});
    c.indices = at::empty({s.rows, s.cols / 2}, at::kByte);
    REPRO_ASSERT(sparse24_from_dense(c.s_dense.data_ptr<float>(), mask.data_ptr<bool>(), s.rows, s.cols,
                                     c.values.data_ptr<float>(), c.indices.data_ptr<uint8_t>()),
                 "kernel_speed: random 2:4 mask");
    Packed24 p = pack_sparse24(c.values.data_ptr<float>(), c.indices.data_ptr<uint8_t>(), s.rows, s.cols);
    c.bytes = p.bytes_read();
    c.magnitude = c.s_dense.abs();
    if (f.rank > 0) {
      c.U = at::randn({s.rows, f.rank}, g) * 0.02;
      c.V = at::randn({f.rank, s.cols}, g) * 0.02;
      c.bytes += f.rank * (s.rows + s.cols) * 4;
    }
    copies = copies_for(static_cast<double>(c.bytes), s.min_buffer_mb);
    c.sparse.assign(copies, p);
    for (int i = 0; i < copies && f.rank > 0; ++i) {
      c.u_copies.push_back(c.U.clone());
      c.v_copies.push_back(c.V.clone());
    }
  } else {
    c.dense = at::randn({s.rows, s.cols}, g) * 0.02;
    c.magnitude = c.dense.abs();
    c.bytes = s.rows * s.cols * 4;
    copies = copies_for(static_cast<double>(c.bytes), s.min_buffer_mb);
    for (int i = 0; i < copies; ++i) c.dense_copies.push_back(c.dense.clone());
  }
  c.key = key;
  return c;
}

Baseline& baseline_for(const CaseSpec& s) {
  Baseline& b = cached_baseline();
  const std::string key = fmt::format("{}x{}/{}/{}", s.rows, s.cols, s.seed, s.min_buffer_mb);
  if (b.key == key) return b;
  b = Baseline{};
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(s.seed + 2);
  at::Tensor w = at::randn({s.rows, s.cols}, g) * 0.02;
  const int copies = copies_for(static_cast<double>(s.rows * s.cols * 4), s.min_buffer_mb);
  for (int i = 0; i < copies; ++i) b.copies.push_back(w.clone());
  b.key = key;
  return b;
}

void run_candidate(const CaseSpec& s, Candidate& c, int i, const float* x, float* y) {
  KernelOptions o;
  o.threads = threads_or_all(s.threads);
  switch (s.format.kind) {
    case Format::kLowBit: lowbit_gemm(c.lowbit[i], x, s.batch, s.cols, y, s.rows, o); break;
    case Format::kSparse24:
      if (s.format.rank > 0)
        sparse24_lowrank_gemm(c.sparse[i], c.u_copies[i].data_ptr<float>(), c.v_copies[i].data_ptr<float>(),
                              s.format.rank, x, s.batch, s.cols, y, s.rows, o);
      else
        sparse24_gemm(c.sparse[i], x, s.batch, s.cols, y, s.rows, o);
      break;
    case Format::kDense:
      dense_gemm(x, s.batch, s.cols, c.dense_copies[i].data_ptr<float>(), s.rows, s.cols, s.cols, y, s.rows, false, o);
      break;
  }
}

// Reference outputs of rows [r0, r0 + n) for every batch row: [batch, n].
at::Tensor reference_rows(const CaseSpec& s, const Candidate& c, const at::Tensor& x, int64_t r0, int64_t n) {
  at::Tensor ref = at::empty({s.batch, n});
  const float* xp = x.data_ptr<float>();
  if (s.format.kind == Format::kLowBit) {
    const int64_t ng = c.scales.size(1);
    lowbit_gemm_reference(c.codes.data_ptr<uint8_t>() + r0 * s.cols, c.scales.data_ptr<float>() + r0 * ng,
                          c.zeros.data_ptr<float>() + r0 * ng, n, s.cols, s.format.group, xp, s.batch, s.cols,
                          ref.data_ptr<float>(), n);
  } else if (s.format.kind == Format::kSparse24 && s.format.rank > 0) {
    sparse_lowrank_reference(c.s_dense.data_ptr<float>() + r0 * s.cols, n, s.cols,
                             c.U.data_ptr<float>() + r0 * s.format.rank, c.V.data_ptr<float>(), s.format.rank, xp,
                             s.batch, s.cols, ref.data_ptr<float>(), n);
  } else if (s.format.kind == Format::kSparse24) {
    sparse24_gemm_reference(c.values.data_ptr<float>() + r0 * s.cols / 2, c.indices.data_ptr<uint8_t>() + r0 * s.cols / 2,
                            n, s.cols, xp, s.batch, s.cols, ref.data_ptr<float>(), n);
  } else {
    dense_gemm_reference(xp, s.batch, s.cols, c.dense.data_ptr<float>() + r0 * s.cols, n, s.cols, s.cols,
                         ref.data_ptr<float>(), n, false);
  }
  return ref;
}

// The worst |y - ref| / (1e-5 sum |w| |x| + 1e-6) over the checked outputs; NumericalError when >= 1.
double check(const CaseSpec& s, Candidate& c, const at::Tensor& x) {
  at::Tensor y = at::empty({s.batch, s.rows});
  run_candidate(s, c, 0, x.data_ptr<float>(), y.data_ptr<float>());
  double worst = 0;
  const int64_t n = std::min(kCheckRows, s.rows);
  for (int64_t r0 : {int64_t{0}, s.rows - n}) {
    at::Tensor ref = reference_rows(s, c, x, r0, n);
    at::Tensor mag = at::matmul(x.abs(), c.magnitude.narrow(0, r0, n).t());
    if (c.U.defined())
      mag = mag + at::matmul(at::matmul(x.abs(), c.V.abs().t()), c.U.narrow(0, r0, n).abs().t());
    at::Tensor err = (y.narrow(1, r0, n) - ref).abs().to(at::kDouble) / (mag.to(at::kDouble) * 1e-5 + 1e-6);
    worst = std::max(worst, err.max().item<double>());
  }
  if (!(worst < 1.0))
    throw NumericalError(fmt::format("kernel_speed: {} at {}x{} batch {} differs from its reference ({:.3g} x the "
                                     "fp32 error bound); not timing a wrong kernel",
                                     s.format.name, s.rows, s.cols, s.batch, worst));
  return worst;
}

}  // namespace

Format parse_format(const std::string& name) {
  Format f;
  f.name = name;
  std::smatch m;
  if (name == "fp32") {
    f.kind = Format::kDense;
  } else if (std::regex_match(name, m, std::regex("q([234])g([0-9]+)"))) {
    f.kind = Format::kLowBit;
    f.bits = std::stoi(m[1]);
    f.group = std::stoll(m[2]);
    if (f.group <= 0) throw ConfigError("kernel format '" + name + "': the group size must be positive");
  } else if (std::regex_match(name, m, std::regex("2:4(\\+lr([0-9]+))?"))) {
    f.kind = Format::kSparse24;
    f.rank = m[2].matched ? std::stoll(m[2]) : 0;
  } else {
    throw ConfigError("unknown kernel format '" + name +
                      "' (expected fp32, q<bits>g<group> with bits 2-4 such as q4g128, 2:4, or 2:4+lr<rank>)");
  }
  return f;
}

Stats summarize(std::vector<double> t) {
  Stats s;
  if (t.empty()) return s;
  std::sort(t.begin(), t.end());
  auto at_q = [&](double q) {
    const double pos = q * static_cast<double>(t.size() - 1);
    const size_t i = static_cast<size_t>(pos);
    const double frac = pos - static_cast<double>(i);
    return i + 1 < t.size() ? t[i] * (1 - frac) + t[i + 1] * frac : t[i];
  };
  s.median = at_q(0.5);
  s.p10 = at_q(0.1);
  s.p90 = at_q(0.9);
  return s;
}

CaseResult run_case(const CaseSpec& s) {
  REPRO_ASSERT(s.rows > 0 && s.cols > 0 && s.batch > 0 && s.reps > 0, "kernel_speed: empty case");
  if (s.format.kind == Format::kSparse24 && s.cols % 4 != 0)
    throw ConfigError(fmt::format("kernel format 2:4 needs in_features divisible by 4 (got {})", s.cols));
  Candidate& c = candidate_for(s);
  Baseline& b = baseline_for(s);
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(s.seed + 3);
  at::Tensor x = at::rand({s.batch, s.cols}, g) * 2 - 1;
  at::Tensor y = at::empty({s.batch, s.rows}), yb = at::empty({s.batch, s.rows});

  CaseResult r;
  r.max_error = check(s, c, x);
  r.candidate_bytes = c.bytes;
  r.baseline_bytes = s.rows * s.cols * 4;
  r.flops = 2.0 * static_cast<double>(s.rows) * static_cast<double>(s.cols) * static_cast<double>(s.batch);
  const int nc = static_cast<int>(std::max({c.lowbit.size(), c.sparse.size(), c.dense_copies.size()}));
  const int nb = static_cast<int>(b.copies.size());
  r.buffers = nc;

  at::Tensor x0 = x[0];
  at::Tensor yb0 = yb[0];
  auto baseline = [&](int i) {
    // OpenBLAS sgemv at batch 1, sgemm above, into preallocated outputs.
    if (s.batch == 1) at::mv_out(yb0, b.copies[i], x0);
    else at::mm_out(yb, x, b.copies[i].t());
  };
  float* xp = x.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  const int threads = threads_or_all(s.threads);
  const int blas_before = set_blas_threads(threads);
  r.blas_threads = blas_before > 0 ? threads : 0;
  const auto after_kernel = std::chrono::milliseconds(5);
  const auto after_blas = std::chrono::microseconds(static_cast<int64_t>(s.settle_ms * 1000));
  const int burst = std::max(1, s.burst);
  for (int i = 0; i < s.warmup; ++i) {
    run_candidate(s, c, i % nc, xp, yp);
    baseline(i % nb);
  }
  std::this_thread::sleep_for(after_blas);
  // Sample i: `burst` candidate calls back to back on consecutive copies, a short pause, then as many
  // baseline calls, then the settle pause. A sample's time is per call (the burst's over its length).
  std::vector<double> tc, tb, ratio;
  int next = s.warmup;
  for (int i = 0; i < s.reps; ++i) {
    const auto t0 = Clock::now();
    for (int k = 0; k < burst; ++k) run_candidate(s, c, (next + k) % nc, xp, yp);
    const auto t1 = Clock::now();
    std::this_thread::sleep_for(after_kernel);
    const auto t2 = Clock::now();
    for (int k = 0; k < burst; ++k) baseline((next + k) % nb);
    const auto t3 = Clock::now();
    std::this_thread::sleep_for(after_blas);
    next += burst;
    tc.push_back(std::chrono::duration<double>(t1 - t0).count() / burst);
    tb.push_back(std::chrono::duration<double>(t3 - t2).count() / burst);
    ratio.push_back(tb.back() / tc.back());
  }
  if (blas_before > 0) set_blas_threads(blas_before);
  r.candidate = summarize(tc);
  r.baseline = summarize(tb);
  r.speedup = summarize(ratio).median;
  return r;
}

// OpenBLAS's entry points are looked up at run time, so the harness links no BLAS itself.
int blas_threads() {
  using Get = int (*)();
  auto get = reinterpret_cast<Get>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return get ? get() : 0;
}

int set_blas_threads(int n) {
  using Set = void (*)(int);
  auto set = reinterpret_cast<Set>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  const int before = blas_threads();
  if (!set || before == 0) return 0;
  set(n);
  return before;
}

int threads_or_all(int threads) {
  return threads > 0 ? threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

double triad_gbps(int threads, double mb, int reps) {
  const int64_t n = static_cast<int64_t>(mb * 1e6 / 4);
  std::vector<float> a(n), b(n, 1.0f), c(n, 2.0f);
  std::vector<double> gbps;
  for (int r = 0; r < reps + 1; ++r) {
    const auto t0 = Clock::now();
    stream_triad(a.data(), b.data(), c.data(), 3.0f, n, threads_or_all(threads));
    const double sec = std::chrono::duration<double>(Clock::now() - t0).count();
    if (r > 0) gbps.push_back(12.0 * static_cast<double>(n) / sec / 1e9);  // the first pass is a warm-up
  }
  return summarize(gbps).median;
}

}  // namespace repro::kernels::speed
