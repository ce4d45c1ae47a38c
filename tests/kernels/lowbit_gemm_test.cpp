// Low-bit GEMM: the packed layout round-trips the canonical codes byte for byte and places each
// code where the header says; every kernel path (fused AVX2, decompress-then-dense AVX2, scalar)
// equals the reference and the dequantized dense product from at::matmul, for 2/3/4 bits,
// symmetric and asymmetric grids, any group size, odd shapes and batches 1..17.

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <fmt/format.h>

#include "kernels/detail/lowbit_rows.h"
#include "kernels/lowbit_gemm.h"
#include "tests/kernels/kernel_test_util.h"

using namespace repro;
using namespace repro::kernels;

namespace {

struct Quant {
  at::Tensor codes;   // [rows, cols] uint8
  at::Tensor scales;  // [rows, n_groups]
  at::Tensor zeros;   // [rows, n_groups]
  int bits;
  int64_t group_size;

  at::Tensor dequantized() const {
    at::Tensor idx = at::arange(codes.size(1), at::kLong).div(group_size, "floor");
    return scales.index_select(1, idx) * (codes.to(at::kFloat) - zeros.index_select(1, idx));
  }
  // |scale| (code + |zero|): bounds each term of the kernel's scale * code + offset.
  at::Tensor magnitude() const {
    at::Tensor idx = at::arange(codes.size(1), at::kLong).div(group_size, "floor");
    return scales.abs().index_select(1, idx) * (codes.to(at::kFloat) + zeros.abs().index_select(1, idx));
  }
  PackedLowBit pack() const {
    return pack_lowbit(codes.data_ptr<uint8_t>(), scales.data_ptr<float>(), zeros.data_ptr<float>(), codes.size(0),
                       codes.size(1), bits, group_size);
  }
};

Quant random_quant(int64_t rows, int64_t cols, int bits, int64_t group_size, bool symmetric, at::Generator& g) {
  Quant q;
  q.bits = bits;
  q.group_size = group_size;
  const int64_t ng = (cols + group_size - 1) / group_size;
  q.codes = at::randint(0, int64_t{1} << bits, {rows, cols}, g, at::kByte);
  q.scales = (at::rand({rows, ng}, g) + 0.01) * 0.1;
  q.zeros = symmetric ? at::full({rows, ng}, static_cast<float>(1 << (bits - 1)))
                      : at::randint(0, int64_t{1} << bits, {rows, ng}, g, at::kFloat);
  return q;
}

}  // namespace

TEST_CASE("pack_lowbit round-trips codes, scales and zeros exactly", "[kernels][lowbit]") {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(21);
  for (int bits : {2, 3, 4})
    for (int64_t cols : {1, 7, 63, 64, 65, 200, 256})
      for (int64_t group : {int64_t{7}, int64_t{64}, int64_t{128}, cols}) {
        Quant q = random_quant(5, cols, bits, group, false, g);
        PackedLowBit p = q.pack();
        INFO(fmt::format("{} bits, {} cols, group {}", bits, cols, group));
        CHECK(p.cols_padded % kLowBitBlock == 0);
        CHECK(p.row_bytes() == p.cols_padded * bits / 8);
        at::Tensor codes = at::empty_like(q.codes), scales = at::empty_like(q.scales), zeros = at::empty_like(q.zeros);
        unpack_lowbit(p, codes.data_ptr<uint8_t>(), scales.data_ptr<float>(), zeros.data_ptr<float>());
        CHECK(at::equal(codes, q.codes));
        CHECK(at::equal(scales, q.scales));
        CHECK(at::equal(zeros, q.zeros));
      }
}

TEST_CASE("pack_lowbit puts column 8 j + i in lane i, field slot j", "[kernels][lowbit]") {
  // One 4-bit row of 64 columns with code(k) = k % 16: lane i's 32-bit field holds columns
  // i, 8 + i, ..., 56 + i at nibbles 0..7.
  at::Tensor codes = (at::arange(64, at::kLong) % 16).to(at::kByte).reshape({1, 64});
  at::Tensor scales = at::ones({1, 1}), zeros = at::zeros({1, 1});
  PackedLowBit p = pack_lowbit(codes.data_ptr<uint8_t>(), scales.data_ptr<float>(), zeros.data_ptr<float>(), 1, 64, 4,
                               64);
  for (int lane = 0; lane < 8; ++lane) {
    uint32_t field = 0;
    for (int i = 0; i < 4; ++i) field |= static_cast<uint32_t>(p.codes[lane * 4 + i]) << (8 * i);
    for (int j = 0; j < 8; ++j) CHECK(((field >> (4 * j)) & 15u) == static_cast<uint32_t>((8 * j + lane) % 16));
  }
  // 3 bits: column k's bit offset is lane * 24 + slot * 3 inside the block.
  CHECK(kernels::detail::lowbit_bit_offset(3, 8 * 2 + 5) == 5 * 24 + 2 * 3);
  CHECK(kernels::detail::lowbit_bit_offset(3, 64 + 1) == 64 * 3 + 24);
}

TEST_CASE("lowbit_gemm equals the reference and the dequantized at::matmul", "[kernels][lowbit]") {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(22);
  struct Shape {
    int64_t rows, cols, group;
  };
  // g128 (the fused path), group = K for K not a multiple of 64, groups of 64 and 192, groups that
  // are not a multiple of 64 (decompress path), a partial last group, a single row, odd sizes.
  const Shape shapes[] = {{1, 64, 64},   {13, 100, 100}, {37, 256, 128}, {16, 384, 192}, {9, 96, 32},
                          {5, 21, 7},    {11, 300, 128}, {8, 129, 129},  {70, 512, 128}};
  for (const Shape& s : shapes)
    for (int bits : {2, 3, 4})
      for (bool symmetric : {true, false}) {
        Quant q = random_quant(s.rows, s.cols, bits, s.group, symmetric, g);
        PackedLowBit p = q.pack();
        at::Tensor wd = q.dequantized(), mag_w = q.magnitude();
        for (int64_t batch : {1, 2, 3, 4, 5, 8, 9, 17}) {
          at::Tensor x = test::random_input(batch, s.cols, g);
          at::Tensor ref = at::empty({batch, s.rows});
          lowbit_gemm_reference(q.codes.data_ptr<uint8_t>(), q.scales.data_ptr<float>(), q.zeros.data_ptr<float>(),
                                s.rows, s.cols, s.group, x.data_ptr<float>(), batch, s.cols, ref.data_ptr<float>(),
                                s.rows);
          at::Tensor mag = at::matmul(x.abs(), mag_w.t());
          for (Isa isa : test::available_isas()) {
            KernelOptions o;
            o.isa = isa;
            at::Tensor y = at::empty({batch, s.rows});
            lowbit_gemm(p, x.data_ptr<float>(), batch, s.cols, y.data_ptr<float>(), s.rows, o);
            const std::string what = fmt::format("{} {}x{} g{} {} bits {} batch {}", isa_name(isa), s.rows, s.cols,
                                                 s.group, bits, symmetric ? "sym" : "asym", batch);
            test::check_close(y, ref, mag, what);
            test::check_close(y, at::matmul(x, wd.t()), mag, what + " vs at::matmul");
          }
        }
      }
}

TEST_CASE("lowbit_gemm: strided x and y, and the same bits on 1 and 3 threads", "[kernels][lowbit]") {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(23);
  const int64_t rows = 203, cols = 640, batch = 3;
  Quant q = random_quant(rows, cols, 4, 128, false, g);
  PackedLowBit p = q.pack();
  at::Tensor xbuf = test::random_input(batch, cols + 8, g);
  at::Tensor x = xbuf.narrow(1, 0, cols);
  at::Tensor want = at::matmul(x, q.dequantized().t());
  for (Isa isa : test::available_isas()) {
    at::Tensor y1 = at::zeros({batch, rows + 3}), y3 = at::zeros({batch, rows + 3});
    KernelOptions o;
    o.isa = isa;
    o.threads = 1;
    lowbit_gemm(p, xbuf.data_ptr<float>(), batch, cols + 8, y1.data_ptr<float>(), rows + 3, o);
    o.threads = 3;
    lowbit_gemm(p, xbuf.data_ptr<float>(), batch, cols + 8, y3.data_ptr<float>(), rows + 3, o);
    CHECK(at::equal(y1, y3));
    test::check_close(y1.narrow(1, 0, rows), want, at::matmul(x.abs(), q.magnitude().t()), isa_name(isa));
    CHECK(at::equal(y1.narrow(1, rows, 3), at::zeros({batch, 3})));  // nothing written past the rows
  }
}
