#pragma once
// The measurement harness of the kernel-speed suite and bench/kernels.cpp: one compressed format
// at one layer shape and batch, timed against the dense fp32 baseline (OpenBLAS through libtorch:
// at::mv at batch 1, at::matmul above) in the same run, with the machine's memory bandwidth
// measured by a STREAM-style triad beside it.
//
// How a case is timed (each choice guards against a known way to fool oneself):
//  - the weights rotate over enough copies that their total exceeds min_buffer_mb (default 128 MB,
//    4x a 32 MB L3), so every call streams its weight from memory, as in a real decode step;
//  - before timing, the kernel's output on the first copy is checked against the scalar reference
//    on the canonical form (first and last 32 rows, every batch row); a mismatch throws
//    NumericalError and nothing is timed;
//  - untimed warm-up calls first, then candidate and baseline alternate burst by burst, so load
//    from other processes hits both alike; the speed-up is the median of the paired ratios;
//  - a burst is `burst` calls back to back on consecutive weight copies, as a decode step runs its
//    layers: the thread pools stay awake inside a burst, so a call is not charged the wake-up of a
//    pool that slept through the pause (on a 2-core VM that alone cost up to milliseconds when a
//    second process held the other core); burst = 1 times single cold calls;
//  - both sides get the same thread count (OpenBLAS's set through openblas_set_num_threads for the
//    baseline calls and restored after), and an untimed pause follows each burst: idle OpenMP and
//    OpenBLAS workers spin before they sleep (OpenBLAS for up to 2^28 cycles), and on 2 cores one
//    pool's spinning workers would slow the other side's next burst.

#include <cstdint>
#include <string>
#include <vector>

namespace repro::kernels::speed {

// A weight format: "fp32" (our dense kernel), "q<bits>g<group>" (q4g128: 4-bit codes, groups of
// 128, asymmetric), "2:4", "2:4+lr<rank>" (2:4 plus a rank-r low-rank term).
struct Format {
  std::string name;
  enum Kind { kDense, kLowBit, kSparse24 } kind = kDense;
  int bits = 0;
  int64_t group = 0;
  int64_t rank = 0;
};
// ConfigError naming the string and the accepted forms when it is none of them.
Format parse_format(const std::string& name);

struct CaseSpec {
  Format format;
  int64_t rows = 0, cols = 0, batch = 1;  // weight [rows, cols] = [out, in], x [batch, cols]
  int threads = 0;                        // kernel threads (0: every core, like OpenBLAS's default)
  int reps = 15;                          // timed bursts of each of candidate and baseline
  int burst = 8;                          // back-to-back calls per timed burst (time is per call)
  int warmup = 3;
  double min_buffer_mb = 128;             // total size of the rotated weight copies, each side
  double settle_ms = 200;                 // untimed pause after each baseline burst (5 ms after a kernel burst)
  uint64_t seed = 0;
};

struct Stats {
  double median = 0, p10 = 0, p90 = 0;  // seconds
};
Stats summarize(std::vector<double> seconds);

struct CaseResult {
  Stats candidate, baseline;
  double speedup = 0;          // median over bursts of baseline / candidate (paired, same rep)
  int64_t candidate_bytes = 0; // weight bytes one candidate call reads (codes, scales, values, factors)
  int64_t baseline_bytes = 0;  // rows * cols * 4
  double flops = 0;            // 2 rows cols batch: the dense product's operations (the useful work)
  int buffers = 0;             // weight copies rotated (candidate side)
  double max_error = 0;        // worst |kernel - reference| / bound over the checked outputs (< 1)
  int blas_threads = 0;        // OpenBLAS threads during the baseline calls (0: not OpenBLAS)
};

// Builds the weights (random, seeded), checks, times. Throws NumericalError on a failed check.
CaseResult run_case(const CaseSpec& spec);

// STREAM triad a[i] = b[i] + s c[i] on fp32 arrays of `mb` MB each, on `threads` threads (0: every core):
// the median over reps of 12 bytes per element / time, in GB/s.
double triad_gbps(int threads, double mb = 128, int reps = 10);

// Sets OpenBLAS's thread count when libtorch's BLAS is OpenBLAS; returns the previous count (0 when
// the BLAS is not OpenBLAS, and nothing changes).
int set_blas_threads(int n);
// OpenBLAS's thread count (0 when libtorch's BLAS is not OpenBLAS).
int blas_threads();

// threads, or every core when it is 0.
int threads_or_all(int threads);

}  // namespace repro::kernels::speed
