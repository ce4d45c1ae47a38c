#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>

#include "core/error.h"
#include "methods/admm_q/admm_q.h"
#include "methods/common/layer_error.h"
#include "methods/common/quant_grid.h"
#include "tests/catch.h"
#include "tests/methods/method_test_util.h"

using namespace repro;
using repro::test::compress;

namespace {
at::Tensor damped(const at::Tensor& H) { return H + at::eye(H.size(0)) * 0.01 * H.diagonal().mean(); }

QuantGridOptions grid_opts(int bits, bool sym = false) {
  QuantGridOptions o;
  o.bits = bits;
  o.sym = sym;
  return o;
}
}  // namespace

TEST_CASE("admm_q: layer objective ADMM-Q <= GPTQ <= RTN at 3 and 4 bits, per channel and groups 32/64",
          "[methods][admm_q]") {
  for (uint64_t seed : {1, 2, 3}) {
    auto f = test::make_layer(64, 256, seed);
    for (int bits : {3, 4}) {
      for (int64_t g : {int64_t{-1}, int64_t{32}, int64_t{64}}) {
        Value::Table p{{"bits", bits}, {"group_size", g}};
        const double rtn = test::rel_error(f, compress("rtn", p, f));
        const double gptq = test::rel_error(f, compress("gptq", p, f));
        const double admm = test::rel_error(f, compress("admm_q", p, f));
        Value::Table pr = p;
        pr["init"] = "rtn";
        const double admm_rtn = test::rel_error(f, compress("admm_q", pr, f));
        INFO("seed " << seed << " bits " << bits << " group " << g << ": rtn " << rtn << " gptq " << gptq
                     << " admm_q(gptq) " << admm << " admm_q(rtn) " << admm_rtn);
        CHECK(gptq < rtn);
        CHECK(admm < gptq);
        CHECK(admm_rtn < gptq);
      }
    }
  }
}

TEST_CASE("admm_q: the ADMM alone, from RTN and without the local search, beats GPTQ", "[methods][admm_q]") {
  // Pins the splitting itself (a projection onto the unscaled grid, or a wrong continuous step,
  // leaves the RTN codes or worse): the local search and the best-iterate rule cannot hide it here.
  for (uint64_t seed : {4, 5}) {
    auto f = test::make_layer(64, 256, seed);
    for (int bits : {3, 4}) {
      Value::Table p{{"bits", bits}, {"group_size", 64}};
      const double gptq = test::rel_error(f, compress("gptq", p, f));
      p["init"] = "rtn";
      p["ls_sweeps"] = 0;
      const double admm = test::rel_error(f, compress("admm_q", p, f));
      INFO("seed " << seed << " bits " << bits << ": gptq " << gptq << " admm (no local search) " << admm);
      CHECK(admm < gptq);
    }
  }
}

TEST_CASE("admm_q: the scaled-space projection is the nearest point of the grid scaled by c_j", "[methods][admm_q]") {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(11);
  const int64_t out = 6, in = 40;
  at::Tensor W = at::randn({out, in}, gen, at::kFloat);
  for (int64_t g : {int64_t{-1}, int64_t{8}}) {
    for (bool sym : {false, true}) {
      QuantCodes q = quantize_rtn(W, grid_opts(3, sym), g);
      at::Tensor c = at::rand({in}, gen, at::kFloat).mul_(5.0).add_(0.1);
      ScaledGrid grid = make_scaled_grid(q, c);
      at::Tensor Y = at::randn({in, out}, gen, at::kFloat).mul_(c.unsqueeze(1)).mul_(2.0);
      at::Tensor K = grid.codes(Y);
      // Brute force over every code: the nearest value c_j s (k - z).
      at::Tensor s = q.scales.index_select(1, q.column_groups()).t();
      at::Tensor z = q.zeros.index_select(1, q.column_groups()).t();
      at::Tensor ks = at::arange(0, 8, at::kFloat).view({8, 1, 1});
      at::Tensor cand = (ks - z.unsqueeze(0)).mul(s.unsqueeze(0)).mul(c.view({1, in, 1}));  // [8, in, out]
      at::Tensor best = (cand - Y.unsqueeze(0)).abs().argmin(0).to(at::kFloat);
      CHECK(at::equal(K, best));
      // Unscaled, the values are exactly the weight grid.
      at::Tensor Dw = grid.values(K).div(c.unsqueeze(1));
      CHECK(at::allclose(Dw, s * (K - z), 1e-5, 1e-6));
      // The unscaled grid gives other codes (what a projection that forgot c_j would do).
      CHECK_FALSE(at::equal(make_scaled_grid(q, at::ones({in})).codes(Y), K));
    }
  }
}

TEST_CASE("admm_q: the ADMM residual ||Bs - D|| falls, the iterations stop, the best iterate is returned",
          "[methods][admm_q]") {
  for (uint64_t seed : {1, 2, 3}) {
    for (int64_t g : {int64_t{-1}, int64_t{64}}) {
      auto f = test::make_layer(48, 256, seed);
      at::Tensor H = damped(f.H);
      QuantCodes init = quantize_rtn(f.W, grid_opts(3), g);
      AdmmQOptions o;
      o.trace = true;
      AdmmQResult r = admm_q_solve(f.W, H, init, o, test::quiet_context());
      INFO("seed " << seed << " group " << g << " iterations " << r.iterations << " residual " << r.residual.front()
                   << " -> max " << *std::max_element(r.residual.begin(), r.residual.end()) << " -> "
                   << r.residual.back() << " objective " << r.init_objective << " -> " << r.objective);
      REQUIRE(r.residual.size() >= 5);
      const double peak = *std::max_element(r.residual.begin(), r.residual.end());
      CHECK(r.residual.back() < 0.05 * peak);
      // Over the second half of the run the residual keeps falling overall.
      const size_t mid = r.residual.size() / 2;
      CHECK(r.residual.back() < r.residual[mid]);
      CHECK(r.iterations < o.max_iter);
      CHECK(r.objective < 0.8 * r.init_objective);
      CHECK(r.objective == *std::min_element(r.trace_objective.begin(), r.trace_objective.end()));
      // The returned codes give the returned objective.
      CHECK(layer_loss(f.W, r.q.dequantize(), H) == Approx(r.objective).epsilon(1e-4));
    }
  }
}

TEST_CASE("admm_q: the local search never raises the objective and is a no-op at a local minimum",
          "[methods][admm_q]") {
  for (uint64_t seed : {1, 2, 3}) {
    auto f = test::make_layer(40, 192, seed);
    at::Tensor H = damped(f.H);
    for (int bits : {2, 3, 4}) {
      QuantCodes q = quantize_rtn(f.W, grid_opts(bits), 64);
      const double before = layer_loss(f.W, q.dequantize(), H);
      LocalSearchResult r = local_search(f.W, H, q, 20, /*block=*/32);
      const double after = layer_loss(f.W, r.q.dequantize(), H);
      INFO("seed " << seed << " bits " << bits << " sweeps " << r.sweeps << " moves " << r.moves << ": " << before
                   << " -> " << after);
      CHECK(r.moves > 0);
      CHECK(after < before);
      for (size_t i = 1; i < r.objective.size(); ++i) CHECK(r.objective[i] <= r.objective[i - 1]);
      CHECK(after == Approx(r.objective.back()).epsilon(1e-4));
      // Codes moved by whole grid steps and stayed in range.
      CHECK(r.q.codes.to(at::kInt).max().item<int>() <= (1 << bits) - 1);
      CHECK(at::equal(r.q.scales, q.scales));
      // Once converged, a further search finds nothing; a different block size changes nothing.
      if (r.sweeps < 20) {
        LocalSearchResult again = local_search(f.W, H, r.q, 5, /*block=*/128);
        CHECK(again.moves == 0);
        CHECK(at::equal(again.q.codes, r.q.codes));
      }
    }
  }
  // A diagonal H decouples the coordinates: RTN is optimal and no +-1 move helps.
  auto f = test::make_layer(16, 64, 9);
  at::Tensor Hd = at::diag(f.H.diagonal());
  QuantCodes q = quantize_rtn(f.W, grid_opts(3), 32);
  LocalSearchResult r = local_search(f.W, Hd, q, 5);
  CHECK(r.moves == 0);
  CHECK(at::equal(r.q.codes, q.codes));
}

TEST_CASE("admm_q: codes on the grid, dense == dequantize, grids are the init's", "[methods][admm_q]") {
  auto f = test::make_layer(64, 256, 5);
  for (Value::Table p : {Value::Table{{"bits", 4}},
                         Value::Table{{"bits", 3}, {"group_size", -1}, {"sym", true}},
                         Value::Table{{"bits", 2}, {"group_size", 32}, {"clip_search", true}},
                         Value::Table{{"bits", 3}, {"group_size", 64}, {"init", "rtn"}},
                         Value::Table{{"bits", 4}, {"group_size", -1}, {"init", "rtn"}, {"clip_search", true}}}) {
    auto c = compress("admm_q", p, f);
    const QuantCodes& q = c.quant();
    const int bits = static_cast<int>(p.at("bits").as_int());
    CHECK(q.bits == bits);
    CHECK(q.codes.scalar_type() == at::kByte);
    CHECK(q.codes.to(at::kInt).max().item<int>() <= (1 << bits) - 1);
    CHECK((q.zeros == at::round(q.zeros)).all().item<bool>());
    at::Tensor s = q.scales.index_select(1, q.column_groups());
    at::Tensor z = q.zeros.index_select(1, q.column_groups());
    CHECK(at::equal(c.dense(), s * (q.codes.to(at::kFloat) - z)));
    CHECK(test::forward_mismatch(c) < 1e-5);

    // The grids (scales and zeros) are those of the init, exactly.
    Value::Table base = p;
    base.erase("init");
    const bool rtn = p.count("init") != 0;
    auto ref = compress(rtn ? "rtn" : "gptq", base, f);
    CHECK(at::equal(q.scales, ref.quant().scales));
    CHECK(at::equal(q.zeros, ref.quant().zeros));
    CHECK(q.group_size == ref.quant().group_size);
    if (rtn) {
      QuantGridOptions o = grid_opts(bits, p.count("sym") != 0);
      o.clip_search = p.count("clip_search") != 0;
      const int64_t g = p.count("group_size") ? p.at("group_size").as_int() : 128;
      GridParams gp = fit_group_grids(f.W, o, g);
      CHECK(at::equal(q.scales, gp.scale));
      CHECK(at::equal(q.zeros, gp.zero));
    }
  }
}

TEST_CASE("admm_q: dead inputs, determinism, counters", "[methods][admm_q]") {
  test::FixtureOptions fo;
  fo.n_dead = 5;
  auto f = test::make_layer(32, 128, 7, fo);
  RunOptions ro;
  ro.log_level = "off";
  ro.progress = false;
  RunContext ctx(ro);
  auto a = compress("admm_q", {{"bits", 3}, {"group_size", 32}}, f, ctx);
  auto b = compress("admm_q", {{"bits", 3}, {"group_size", 32}}, f, ctx);
  CHECK(ctx.counter("dead_inputs") == 10);  // once per layer, not again for the GPTQ init
  CHECK(ctx.counter("admm_q_iterations") > 0);
  CHECK(at::equal(a.quant().codes, b.quant().codes));
  at::Tensor dead = f.H.diagonal().eq(0);
  CHECK(a.dense().index_select(1, dead.nonzero().squeeze(1)).abs().max().item<float>() == 0.0f);
  CHECK(test::rel_error(f, a) < test::rel_error(f, compress("gptq", {{"bits", 3}, {"group_size", 32}}, f)));
  for (const char* phase : {"prepare", "init", "admm", "local_search"}) CHECK(ctx.timer().seconds().count(phase) == 1);
}

TEST_CASE("admm_q: max_iter = 0 is the init plus the local search", "[methods][admm_q]") {
  auto f = test::make_layer(32, 128, 8);
  Value::Table p{{"bits", 3}, {"group_size", 64}, {"max_iter", 0}, {"ls_sweeps", 0}};
  auto plain = compress("admm_q", p, f);
  CHECK(at::equal(plain.quant().codes, compress("gptq", {{"bits", 3}, {"group_size", 64}}, f).quant().codes));
  p["ls_sweeps"] = 10;
  CHECK(test::rel_error(f, compress("admm_q", p, f)) < test::rel_error(f, plain));
}

TEST_CASE("admm_q: bad parameters", "[methods][admm_q]") {
  CHECK_THROWS_AS(test::make_compressor("admm_q", {{"bits", 1}}), ConfigError);
  CHECK_THROWS_AS(test::make_compressor("admm_q", {{"init", "sparsegpt"}}), ConfigError);
  CHECK_THROWS_AS(test::make_compressor("admm_q", {{"max_iter", -1}}), ConfigError);
  CHECK_THROWS_AS(test::make_compressor("admm_q", {{"rho0", 0.0}}), ConfigError);
  CHECK_THROWS_AS(test::make_compressor("admm_q", {{"ls_sweeps", -2}}), ConfigError);
  CHECK_THROWS_AS(test::make_compressor("admm_q", {{"percdamp", -0.1}}), ConfigError);
  CHECK_THROWS_AS(test::make_compressor("admm_q", {{"iters", 3}}), ConfigError);
}
