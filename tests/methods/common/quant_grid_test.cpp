#include "methods/common/quant_grid.h"

#include <ATen/ATen.h>

#include "tests/catch.h"
#include "tests/methods/method_test_util.h"

using namespace repro;

namespace {
at::Tensor row(std::vector<float> v) { return at::tensor(v, at::kFloat).unsqueeze(0); }
}  // namespace

TEST_CASE("asymmetric grid: min-max range containing 0, round half to even", "[methods][quant]") {
  QuantGridOptions o;
  o.bits = 2;  // maxq 3
  at::Tensor w = row({-1.0f, 0.5f, 1.5f, 2.0f});
  GridParams g = fit_grid(w, o);
  CHECK(g.scale.item<float>() == Approx(1.0));  // (2 - (-1)) / 3
  CHECK(g.zero.item<float>() == 1.0f);          // round(1 / 1)
  at::Tensor codes = quantize_codes(w, g.scale, g.zero, o.maxq());
  // 0.5 -> round(0.5) = 0 (half to even) + 1; 1.5 -> round(1.5) = 2 + 1.
  CHECK(codes.equal(row({0.0f, 1.0f, 3.0f, 3.0f})));
  CHECK(dequantize_codes(codes, g.scale, g.zero).equal(row({-1.0f, 0.0f, 2.0f, 2.0f})));

  // A positive-only row still has 0 on its grid (xmin = min(0, min w)).
  GridParams gp = fit_grid(row({1.0f, 2.0f, 3.0f}), o);
  CHECK(gp.zero.item<float>() == 0.0f);
  CHECK(gp.scale.item<float>() == Approx(1.0));
}

TEST_CASE("symmetric grid is GPTQ's: levels -2^(b-1)..2^(b-1)-1 times the scale", "[methods][quant]") {
  QuantGridOptions o;
  o.bits = 2;
  o.sym = true;
  GridParams g = fit_grid(row({-0.5f, 3.0f}), o);
  CHECK(g.scale.item<float>() == Approx(2.0));  // 2 * 3 / 3
  CHECK(g.zero.item<float>() == 2.0f);
  at::Tensor levels = dequantize_codes(at::arange(4, at::kFloat).unsqueeze(0), g.scale, g.zero);
  CHECK(levels.equal(row({-4.0f, -2.0f, 0.0f, 2.0f})));
}

TEST_CASE("an all-zero slice gets the [-1, 1] range and quantizes to exactly 0", "[methods][quant]") {
  for (bool sym : {false, true}) {
    QuantGridOptions o;
    o.bits = 3;
    o.sym = sym;
    o.clip_search = true;
    at::Tensor w = at::zeros({2, 5});
    GridParams g = fit_grid(w, o);
    CHECK(g.scale.isfinite().all().item<bool>());
    CHECK(fake_quantize(w, g.scale, g.zero, o.maxq()).abs().max().item<float>() == 0.0f);
  }
}

TEST_CASE("MSE clipping search never raises the |q - w|^2.4 error and clips an outlier row", "[methods][quant]") {
  auto f = test::make_layer(64, 128, 1);
  for (bool sym : {false, true}) {
    QuantGridOptions plain;
    plain.bits = 3;
    plain.sym = sym;
    QuantGridOptions clip = plain;
    clip.clip_search = true;
    GridParams a = fit_grid(f.W, plain), b = fit_grid(f.W, clip);
    auto err = [&](const GridParams& g) {
      return (fake_quantize(f.W, g.scale, g.zero, plain.maxq()) - f.W).abs().pow(2.4).sum(1);
    };
    CHECK((err(b) <= err(a) * (1 + 1e-5)).all().item<bool>());
    CHECK((b.scale < a.scale).any().item<bool>());  // the outlier rows shrink their range
  }
}

TEST_CASE("clip_neg_scale: the mirrored symmetric grid {2,1,0,-1}|s| is chosen when it fits better",
          "[methods][quant][gsq]") {
  QuantGridOptions o;
  o.bits = 2;
  o.sym = true;
  o.clip_search = true;
  // Levels {-2,-1,0,1} s cannot hold +0.2 and -0.1 together at s = 0.1; the negated scale can.
  at::Tensor w = row({0.2f, 0.1f, 0.0f, -0.1f});
  GridParams pos = fit_grid(w, o);
  CHECK(pos.scale.item<float>() > 0.0f);
  o.clip_neg_scale = true;
  GridParams neg = fit_grid(w, o);
  CHECK(neg.scale.item<float>() == Approx(-0.1).margin(1e-6));  // p = 0.75 of 2 * 0.2 / 3, negated
  CHECK(neg.zero.item<float>() == 2.0f);
  CHECK(fake_quantize(w, neg.scale, neg.zero, o.maxq()).sub(w).abs().max().item<float>() < 1e-6f);
  // A row that the positive grid fits exactly keeps a positive scale (ties keep +s).
  GridParams keep = fit_grid(row({-0.2f, -0.1f, 0.0f, 0.1f}), o);
  CHECK(keep.scale.item<float>() > 0.0f);
}

TEST_CASE("quantize_rtn: codes in [0, 2^b - 1], dequant == scale * (code - zero), groups", "[methods][quant]") {
  auto f = test::make_layer(48, 200, 2);  // 200 = 128 + 72: a partial last group
  for (int bits : {2, 3, 4, 8}) {
    for (bool sym : {false, true}) {
      QuantGridOptions o;
      o.bits = bits;
      o.sym = sym;
      QuantCodes q = quantize_rtn(f.W, o, 128);
      REQUIRE(q.scales.sizes() == at::IntArrayRef({48, 2}));
      CHECK(q.codes.scalar_type() == at::kByte);
      CHECK(q.codes.to(at::kInt).max().item<int>() <= (1 << bits) - 1);
      CHECK((q.zeros == at::round(q.zeros)).all().item<bool>());
      // Each group equals a per-row fit of that group alone.
      GridParams g2 = fit_grid(f.W.narrow(1, 128, 72), o);
      CHECK(at::allclose(q.scales.select(1, 1), g2.scale));
      CHECK(at::allclose(q.zeros.select(1, 1), g2.zero));
      at::Tensor deq = q.dequantize();
      at::Tensor s = q.scales.index_select(1, q.column_groups());
      at::Tensor z = q.zeros.index_select(1, q.column_groups());
      CHECK(deq.equal(s * (q.codes.to(at::kFloat) - z)));
      // Round to nearest: no grid point is closer than the chosen one (within the clamp range).
      at::Tensor e = (deq - f.W).abs();
      // (fp32 slack: the grid points themselves carry rounding error of a few ulp of |w|.)
      CHECK((e <= s * 0.5 + 1e-6 * f.W.abs().max()).all().item<bool>());
    }
  }
}

TEST_CASE("per-channel quantization is one group per row", "[methods][quant]") {
  auto f = test::make_layer(8, 64, 3);
  QuantGridOptions o;
  QuantCodes q = quantize_rtn(f.W, o, -1);
  CHECK(q.scales.size(1) == 1);
  CHECK(q.group_size == -1);
  CHECK(num_groups(64, -1) == 1);
  CHECK(num_groups(64, 128) == 1);
  CHECK(num_groups(300, 128) == 3);
}
