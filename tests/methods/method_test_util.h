#pragma once
// Shared fixtures for the method tests: random layer problems with correlated inputs, and running a
// registered compressor by name with parameters, the way a config row does.

#include <cstdint>
#include <memory>
#include <string>

#include <ATen/core/Tensor.h>

#include "core/run_context.h"
#include "core/value.h"
#include "methods/api/layer_compressor.h"
#include "tests/test_util.h"  // quiet_context()

namespace repro::test {

struct LayerFixture {
  at::Tensor W;  // [out, in] fp32
  at::Tensor X;  // [n_tokens, in] fp32
  at::Tensor H;  // [in, in] fp32, (2 / n_tokens) X^T X
  LayerProblem problem() const;
};

struct FixtureOptions {
  int64_t n_tokens = 0;    // 0: 4 * in
  int64_t n_outliers = 4;  // input channels scaled by 20
  int64_t n_dead = 0;      // input channels that are always zero (spread over the width)
  double decay = 0.8;      // singular values of the input mixing fall like k^-decay
};

// X = Z A with Z Gaussian and A = diag(k^-decay) R (R Gaussian / sqrt(in)) so that inputs are
// correlated with a decaying spectrum, a few outlier channels, optional dead channels; W Gaussian
// with per-row scales (some rows larger) and a few large entries.
LayerFixture make_layer(int64_t out, int64_t in, uint64_t seed, const FixtureOptions& opts = {});


// A planted sparse + low-rank layer: W = S0 + L0 with S0 keeping exactly `keep` random entries
// (magnitudes in [1, 2), random signs) per row and L0 = 0.1 * (Gaussian [out, r]) (Gaussian [r, in]);
// X = H = I, so the layer objective is the Frobenius norm.
struct PlantedSlr {
  LayerFixture f;
  at::Tensor S0, L0;
};
PlantedSlr planted_slr(int64_t out, int64_t in, int64_t keep, int64_t r, uint64_t seed);

// A registered LayerCompressor configured from `params` (validated like a config row).
std::unique_ptr<LayerCompressor> make_compressor(const std::string& name, const Value::Table& params = {});

// Compresses f with the named method and returns the result.
CompressedLinear compress(const std::string& name, const Value::Table& params, const LayerFixture& f,
                          RunContext& ctx = quiet_context());

// Relative layer error of a compressed result on f.
double rel_error(const LayerFixture& f, const CompressedLinear& c);

// max |forward(x) - x dense()^T| over a random batch, relative to max |x dense()^T|.
double forward_mismatch(const CompressedLinear& c, uint64_t seed = 7);

}  // namespace repro::test
