// 2:4 GEMM: canonical form from a dense weight and mask, packing round trip, and every kernel path
// against the reference and the masked dense product from at::matmul.

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <fmt/format.h>

#include "kernels/sparse24_gemm.h"
#include "tests/kernels/kernel_test_util.h"

using namespace repro;
using namespace repro::kernels;

namespace {

// A random 2:4 mask [rows, cols]: two random positions kept in every group of 4.
at::Tensor random_mask24(int64_t rows, int64_t cols, at::Generator& g) {
  at::Tensor order = at::rand({rows, cols / 4, 4}, g).argsort();
  at::Tensor keep = order.lt(2);  // positions whose rank among the 4 is 0 or 1
  return keep.reshape({rows, cols}).contiguous();
}

struct Sparse24 {
  at::Tensor dense;    // [rows, cols], zero outside the mask
  at::Tensor values;   // [rows, cols / 2]
  at::Tensor indices;  // [rows, cols / 2] uint8
};

Sparse24 random_sparse24(int64_t rows, int64_t cols, at::Generator& g) {
  Sparse24 s;
  at::Tensor mask = random_mask24(rows, cols, g);
  s.dense = (at::randn({rows, cols}, g) * mask).contiguous();
  s.values = at::empty({rows, cols / 2});
  s.indices = at::empty({rows, cols / 2}, at::kByte);
  const bool ok = sparse24_from_dense(s.dense.data_ptr<float>(), mask.data_ptr<bool>(), rows, cols,
                                      s.values.data_ptr<float>(), s.indices.data_ptr<uint8_t>());
  REQUIRE(ok);
  return s;
}

}  // namespace

TEST_CASE("sparse24_from_dense keeps two values per group, pads short groups, rejects three", "[kernels][sparse24]") {
  // One row, three groups: keeps {1, 3}; keeps only {2}; keeps none.
  const float dense[12] = {0, 5, 0, 6, 0, 0, 7, 0, 0, 0, 0, 0};
  const bool mask[12] = {false, true, false, true, false, false, true, false, false, false, false, false};
  float values[6];
  uint8_t indices[6];
  REQUIRE(sparse24_from_dense(dense, mask, 1, 12, values, indices));
  CHECK(values[0] == 5.0f);
  CHECK(indices[0] == 1);
  CHECK(values[1] == 6.0f);
  CHECK(indices[1] == 3);
  CHECK(values[2] == 7.0f);
  CHECK(indices[2] == 2);
  CHECK(values[3] == 0.0f);
  CHECK(indices[3] != 2);  // a distinct unused position
  CHECK(values[4] == 0.0f);
  CHECK(values[5] == 0.0f);
  CHECK(indices[4] != indices[5]);
  const bool three[4] = {true, true, true, false};
  const float d3[4] = {1, 2, 3, 0};
  CHECK_FALSE(sparse24_from_dense(d3, three, 1, 4, values, indices));
}

TEST_CASE("pack_sparse24 round-trips values and positions exactly", "[kernels][sparse24]") {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(31);
  for (int64_t cols : {4, 8, 60, 64, 68, 200, 256}) {
    Sparse24 s = random_sparse24(7, cols, g);
    Packed24 p = pack_sparse24(s.values.data_ptr<float>(), s.indices.data_ptr<uint8_t>(), 7, cols);
    INFO(cols << " columns");
    CHECK(p.cols_padded % kSparse24Block == 0);
    at::Tensor values = at::empty_like(s.values), indices = at::empty_like(s.indices);
    unpack_sparse24(p, values.data_ptr<float>(), indices.data_ptr<uint8_t>());
    CHECK(at::equal(values, s.values));
    CHECK(at::equal(indices, s.indices));
  }
}

TEST_CASE("sparse24_gemm equals the reference and the masked dense at::matmul", "[kernels][sparse24]") {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(32);
  struct Shape {
    int64_t rows, cols;
  };
  for (Shape sh : {Shape{1, 4}, Shape{1, 64}, Shape{5, 12}, Shape{13, 100}, Shape{37, 256}, Shape{70, 516}})
    for (int64_t batch : {1, 2, 3, 4, 5, 8, 9, 17}) {
      Sparse24 s = random_sparse24(sh.rows, sh.cols, g);
      Packed24 p = pack_sparse24(s.values.data_ptr<float>(), s.indices.data_ptr<uint8_t>(), sh.rows, sh.cols);
      at::Tensor x = test::random_input(batch, sh.cols, g);
      at::Tensor ref = at::empty({batch, sh.rows});
      sparse24_gemm_reference(s.values.data_ptr<float>(), s.indices.data_ptr<uint8_t>(), sh.rows, sh.cols,
                              x.data_ptr<float>(), batch, sh.cols, ref.data_ptr<float>(), sh.rows);
      at::Tensor mag = at::matmul(x.abs(), s.dense.abs().t());
      for (Isa isa : test::available_isas()) {
        KernelOptions o;
        o.isa = isa;
        at::Tensor y = at::empty({batch, sh.rows});
        sparse24_gemm(p, x.data_ptr<float>(), batch, sh.cols, y.data_ptr<float>(), sh.rows, o);
        const std::string what = fmt::format("{} {}x{} batch {}", isa_name(isa), sh.rows, sh.cols, batch);
        test::check_close(y, ref, mag, what);
        test::check_close(y, at::matmul(x, s.dense.t()), mag, what + " vs at::matmul");
      }
    }
}

TEST_CASE("sparse24_gemm gives the same bits on 1 and 3 threads", "[kernels][sparse24]") {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(33);
  const int64_t rows = 301, cols = 1024, batch = 2;
  Sparse24 s = random_sparse24(rows, cols, g);
  Packed24 p = pack_sparse24(s.values.data_ptr<float>(), s.indices.data_ptr<uint8_t>(), rows, cols);
  at::Tensor x = test::random_input(batch, cols, g);
  for (Isa isa : test::available_isas()) {
    at::Tensor y1 = at::empty({batch, rows}), y3 = at::empty({batch, rows});
    KernelOptions o;
    o.isa = isa;
    o.threads = 1;
    sparse24_gemm(p, x.data_ptr<float>(), batch, cols, y1.data_ptr<float>(), rows, o);
    o.threads = 3;
    sparse24_gemm(p, x.data_ptr<float>(), batch, cols, y3.data_ptr<float>(), rows, o);
    CHECK(at::equal(y1, y3));
  }
}
