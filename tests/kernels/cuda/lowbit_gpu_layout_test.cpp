// GPU low-bit GEMV, checked on the CPU: fp16 rounding on raw bits, the packed layout (a bijection
// from (row, k-tile, lane, word) onto the buffer; pack/unpack round-trips the canonical codes
// byte for byte) and the host emulation of the CUDA kernel (the same loads, per-lane fused
// multiply-adds and warp butterfly) against lowbit_gemm_reference, for 2/3/4 bits, symmetric and
// asymmetric grids, groups of 128, 256 or the whole row, odd shapes, batches 1..17. No GPU needed.

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"
#include "kernels/cuda/host_device.h"
#include "kernels/cuda/lowbit_layout.h"
#include "kernels/cuda/lowbit_pack.h"
#include "kernels/lowbit_gemm.h"
#include "tests/catch.h"

using namespace repro;
using namespace repro::kernels;
using namespace repro::kernels::gpu;

namespace {

struct Quant {
  at::Tensor codes, scales, zeros;  // [rows, cols] uint8, [rows, ng] fp32 x2
  int bits;
  int64_t group_size;
  PackedLowBitGpu pack() const {
    return pack_lowbit_gpu(codes.data_ptr<uint8_t>(), scales.data_ptr<float>(), zeros.data_ptr<float>(),
                           codes.size(0), codes.size(1), bits, group_size);
  }
};

// zero_kind: 0 asymmetric (integer zero per group), 1 symmetric (2^(bits-1)), 2 fractional (7.25-like).
Quant random_quant(int64_t rows, int64_t cols, int bits, int64_t group_size, int zero_kind, at::Generator& g) {
  Quant q{{}, {}, {}, bits, group_size};
  const int64_t ng = (cols + group_size - 1) / group_size;
  q.codes = at::randint(0, int64_t{1} << bits, {rows, cols}, g, at::kByte);
  q.scales = ((at::rand({rows, ng}, g) + 0.01) * 0.1).contiguous();
  if (zero_kind == 0) q.zeros = at::randint(0, int64_t{1} << bits, {rows, ng}, g, at::kFloat);
  else if (zero_kind == 1) q.zeros = at::full({rows, ng}, static_cast<float>(1 << (bits - 1)));
  else q.zeros = at::full({rows, ng}, static_cast<float>(1 << (bits - 1)) - 0.75f);
  return q;
}

std::vector<uint16_t> to_half_bits(const at::Tensor& x) {
  at::Tensor c = x.contiguous();
  std::vector<uint16_t> out(c.numel());
  for (int64_t k = 0; k < c.numel(); ++k) out[k] = float_to_half_bits(c.data_ptr<float>()[k]);
  return out;
}

}  // namespace

TEST_CASE("fp16 bit conversions round to nearest even and round-trip every half", "[kernels][cuda_host]") {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = half_bits_to_float(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    REQUIRE(float_to_half_bits(f) == h);
  }
  CHECK(half_bits_to_float(0x3C00) == 1.0f);
  CHECK(half_bits_to_float(0x7BFF) == 65504.0f);
  CHECK(half_bits_to_float(0x0001) == std::ldexp(1.0f, -24));
  CHECK(float_to_half_bits(1.0f + std::ldexp(1.0f, -11)) == 0x3C00);      // tie -> even
  CHECK(float_to_half_bits(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3C02);  // tie -> even (up)
  CHECK(float_to_half_bits(65519.0f) == 0x7BFF);
  CHECK(float_to_half_bits(65520.0f) == 0x7C00);  // rounds past the largest half: infinity
  CHECK(float_to_half_bits(std::ldexp(1.0f, -25)) == 0x0000);
  CHECK(float_to_half_bits(std::ldexp(1.5f, -25)) == 0x0001);
  CHECK(float_to_half_bits(-2.0f) == 0xC000);
  CHECK(std::isnan(half_bits_to_float(float_to_half_bits(std::numeric_limits<float>::quiet_NaN()))));
  // Nearest: no other half is closer than the chosen one (random floats over the whole range).
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(3);
  at::Tensor xs = (at::randn({20000}, g) * at::pow(2.0, at::randint(-26, 17, {20000}, g))).to(at::kFloat);
  for (int64_t k = 0; k < xs.numel(); ++k) {
    const float f = xs.data_ptr<float>()[k];
    const uint16_t h = float_to_half_bits(f);
    const double d = std::abs(static_cast<double>(half_bits_to_float(h)) - f);
    if (std::isinf(half_bits_to_float(h))) continue;
    for (int delta : {-1, 1}) {
      const float other = half_bits_to_float(static_cast<uint16_t>(h + delta));
      if (std::isnan(other) || ((h + delta) & 0x7FFF) == 0x7C00) continue;
      if (((h ^ (h + delta)) & 0x8000) != 0) continue;  // across zero
      REQUIRE(d <= std::abs(static_cast<double>(other) - f));
    }
  }
}

TEST_CASE("GPU low-bit layout: every (row, k-tile, lane, word) has its own slot", "[kernels][cuda_host]") {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(5);
  for (int bits : {2, 3, 4})
    for (int64_t cols : {int64_t{100}, int64_t{1024}, int64_t{3000}, int64_t{5 * 1024}, int64_t{14336}}) {
      INFO(fmt::format("bits {} cols {}", bits, cols));
      const Quant q = random_quant(2, cols, bits, cols, 0, g);
      const PackedLowBitGpu w = q.pack();
      CHECK(w.n_ktiles == (cols + 1023) / 1024);
      CHECK(static_cast<int64_t>(w.words.size()) == 2 * w.n_ktiles * 32 * bits);
      // Codes all 2^bits - 1 fill every bit of every word that holds a real column, so a slot used
      // twice or never shows up as a word that is not all ones (the padding is zero codes).
      at::Tensor full = at::full({2, w.n_ktiles * 1024}, (1 << bits) - 1, at::kByte);
      at::Tensor sc = at::ones({2, 1}), ze = at::zeros({2, 1});
      const PackedLowBitGpu f = pack_lowbit_gpu(full.data_ptr<uint8_t>(), sc.data_ptr<float>(), ze.data_ptr<float>(),
                                                2, w.n_ktiles * 1024, bits, w.n_ktiles * 1024);
      for (uint32_t word : f.words) REQUIRE(word == 0xFFFFFFFFu);
      // A single code set: exactly one bit pattern appears, in the word the layout names.
      for (int64_t c : {int64_t{0}, cols / 3, cols - 1}) {
        at::Tensor one = at::zeros({1, cols}, at::kByte);
        one[0][c] = 1;
        at::Tensor s1 = at::ones({1, 1}), z1 = at::zeros({1, 1});
        const PackedLowBitGpu p = pack_lowbit_gpu(one.data_ptr<uint8_t>(), s1.data_ptr<float>(), z1.data_ptr<float>(),
                                                  1, cols, bits, cols);
        int nonzero = 0;
        for (uint32_t word : p.words) nonzero += word != 0;
        CHECK(nonzero == 1);
      }
    }
}

TEST_CASE("pack_lowbit_gpu round-trips codes, scales and zeros exactly", "[kernels][cuda_host]") {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(7);
  for (int bits : {2, 3, 4})
    for (int64_t cols : {int64_t{1}, int64_t{77}, int64_t{128}, int64_t{1000}, int64_t{2049}, int64_t{4096 + 384}})
      for (int64_t group : {int64_t{128}, int64_t{256}, cols}) {
        if (!lowbit_gpu_supported(bits, 3, cols, group)) continue;
        INFO(fmt::format("bits {} cols {} group {}", bits, cols, group));
        const Quant q = random_quant(3, cols, bits, group, 0, g);
        const PackedLowBitGpu w = q.pack();
        at::Tensor codes = at::empty_like(q.codes), scales = at::empty_like(q.scales), zeros = at::empty_like(q.zeros);
        unpack_lowbit_gpu(w, codes.data_ptr<uint8_t>(), scales.data_ptr<float>(), zeros.data_ptr<float>());
        CHECK(at::equal(codes, q.codes));
        CHECK(at::equal(scales, q.scales));
        CHECK(at::equal(zeros, q.zeros));
      }
}

TEST_CASE("pack_lowbit_gpu refuses what the kernel cannot run", "[kernels][cuda_host]") {
  at::Tensor codes = at::zeros({2, 1000}, at::kByte), s = at::ones({2, 10}), z = at::zeros({2, 10});
  CHECK_THROWS_AS(pack_lowbit_gpu(codes.data_ptr<uint8_t>(), s.data_ptr<float>(), z.data_ptr<float>(), 2, 1000, 4, 100),
                  NotSupported);
  CHECK_THROWS_AS(pack_lowbit_gpu(codes.data_ptr<uint8_t>(), s.data_ptr<float>(), z.data_ptr<float>(), 2, 1000, 5, 1000),
                  NotSupported);
  at::Tensor big = at::full({2, 1}, 1e6f);
  CHECK_THROWS_AS(pack_lowbit_gpu(codes.data_ptr<uint8_t>(), big.data_ptr<float>(), z.data_ptr<float>(), 2, 1000, 4, 1000),
                  NotSupported);
  codes[1][999] = 16;
  at::Tensor s1 = at::ones({2, 1}), z1 = at::zeros({2, 1});
  CHECK_THROWS_AS(pack_lowbit_gpu(codes.data_ptr<uint8_t>(), s1.data_ptr<float>(), z1.data_ptr<float>(), 2, 1000, 4, 1000),
                  InternalError);
}

TEST_CASE("GPU low-bit kernel emulation equals the reference", "[kernels][cuda_host]") {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(11);
  struct Shape { int64_t rows, cols, group; };
  const Shape shapes[] = {{5, 1024, 128}, {3, 1000, 1000}, {7, 2049, 128}, {4, 3 * 1024 + 256, 256},
                          {2, 5 * 1024, 128}, {3, 130, 128}, {2, 64, 64}};
  for (int bits : {2, 3, 4})
    for (const Shape& sh : shapes)
      for (int zero_kind : {0, 1, 2})
        for (int64_t batch : {int64_t{1}, int64_t{3}, int64_t{16}, int64_t{17}}) {
          if (zero_kind != 0 && batch == 3) continue;
          INFO(fmt::format("bits {} shape [{}, {}] group {} zeros {} batch {}", bits, sh.rows, sh.cols, sh.group,
                           zero_kind, batch));
          const Quant q = random_quant(sh.rows, sh.cols, bits, sh.group, zero_kind, g);
          const PackedLowBitGpu w = q.pack();
          // x with a stride wider than cols and one outlier column; rounded to fp16 first, so the
          // reference sees exactly the kernel's inputs.
          const int64_t ldx = sh.cols + 5, ldy = sh.rows + 3;
          at::Tensor xs = at::rand({batch, ldx}, g) * 2 - 1;
          xs.index_put_({at::indexing::Slice(), sh.cols / 2}, 20.0);
          std::vector<uint16_t> xh = to_half_bits(xs);
          at::Tensor xr = at::empty({batch, ldx});
          for (int64_t k = 0; k < xr.numel(); ++k) xr.data_ptr<float>()[k] = half_bits_to_float(xh[k]);
          std::vector<uint16_t> y(batch * ldy, 0xFFFF);
          lowbit_gemm_gpu_emulate(w, xh.data(), batch, ldx, y.data(), ldy);
          // Reference on the fp16-rounded scales and zeros the kernel keeps.
          at::Tensor es = at::empty_like(q.scales), ez = at::empty_like(q.zeros);
          lowbit_gpu_effective_params(w, es.data_ptr<float>(), ez.data_ptr<float>());
          at::Tensor ref = at::empty({batch, sh.rows});
          lowbit_gemm_reference(q.codes.data_ptr<uint8_t>(), es.data_ptr<float>(), ez.data_ptr<float>(), sh.rows,
                                sh.cols, sh.group, xr.data_ptr<float>(), batch, ldx, ref.data_ptr<float>(), sh.rows);
          // Bound: fp16 rounding of y (2^-11 relative) and the fp32 sums (1e-5 of the terms' sizes).
          at::Tensor idx = at::arange(sh.cols, at::kLong).div(sh.group, "floor");
          at::Tensor mag = at::matmul(xr.narrow(1, 0, sh.cols).abs(),
                                      (es.index_select(1, idx) * (q.codes.to(at::kFloat) + ez.index_select(1, idx).abs()))
                                          .t());
          int64_t bad = 0;
          for (int64_t b = 0; b < batch; ++b) {
            for (int64_t r = 0; r < sh.rows; ++r) {
              const double got = half_bits_to_float(y[b * ldy + r]);
              const double want = ref[b][r].item<float>();
              const double bound = std::abs(want) * std::ldexp(1.0, -11) + mag[b][r].item<float>() * 1e-5 + 1e-6;
              if (std::abs(got - want) > bound) {
                if (bad == 0) UNSCOPED_INFO("first mismatch [" << b << ", " << r << "]: " << got << " vs " << want);
                ++bad;
              }
            }
            for (int64_t r = sh.rows; r < ldy; ++r) REQUIRE(y[b * ldy + r] == 0xFFFF);  // padding untouched
          }
          CHECK(bad == 0);
        }
}
