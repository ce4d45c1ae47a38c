// Bit-packed quantization codes: exact round trip, exact byte counts, and the storage accounting
// that CompressedLinear::stats() derives from them.

#include <ATen/ATen.h>

#include "models/compressed_linear.h"
#include "tests/catch.h"

using namespace repro;

TEST_CASE("pack_codes: round trip and byte count for every width, rows padded to a byte", "[models][quant]") {
  at::manual_seed(3);
  for (int bits : {1, 2, 3, 4, 5, 8}) {
    for (int64_t in : {1, 7, 13, 64, 129}) {
      at::Tensor codes = at::randint(0, int64_t{1} << bits, {5, in}, at::kByte);
      at::Tensor packed = pack_codes(codes, bits);
      INFO("bits " << bits << " in " << in);
      CHECK(packed.size(0) == 5);
      CHECK(packed.size(1) == (in * bits + 7) / 8);
      CHECK(at::equal(unpack_codes(packed, bits, in), codes));
    }
  }
  // A known layout: 2-bit codes 1, 2, 3, 0 -> 0b00111001 (least significant bits first).
  at::Tensor c = at::tensor({1, 2, 3, 0}, at::kByte).reshape({1, 4});
  CHECK(pack_codes(c, 2).item<uint8_t>() == 0x39);
  // A 3-bit code straddles a byte boundary: codes 7, 7, 7 -> 9 one bits = 0xFF, 0x01.
  at::Tensor d = at::full({1, 3}, 7, at::kByte);
  at::Tensor p = pack_codes(d, 3);
  CHECK(p[0][0].item<uint8_t>() == 0xFF);
  CHECK(p[0][1].item<uint8_t>() == 0x01);
}

TEST_CASE("stats: a quantized layer counts its packed codes plus one fp16 scale (and zero) per group",
          "[models][quant]") {
  const int64_t out = 4, in = 300, g = 128;  // 3 groups per row; 300 * 3 bits = 112.5 -> 113 bytes
  QuantCodes q;
  q.bits = 3;
  q.group_size = g;
  q.codes = at::randint(0, 8, {out, in}, at::kByte);
  q.scales = at::ones({out, 3});
  q.zeros = at::full({out, 3}, 4.0);
  CompressedLinear c;
  c.set_quant(q);
  const StorageStats st = c.stats();
  CHECK(c.quant().packed().numel() == out * 113);
  CHECK(st.bits == Approx(8.0 * out * 113 + out * 3 * (16.0 + 3.0)));
  q.symmetric = true;
  c.set_quant(q);
  CHECK(c.stats().bits == Approx(8.0 * out * 113 + out * 3 * 16.0));
}
