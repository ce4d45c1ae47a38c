// dense_gemm: the AVX2 register tiles and the scalar path equal the double-accumulated reference
// and at::matmul on odd shapes, strided buffers and the accumulate flag.

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "kernels/dense_gemm.h"
#include "tests/kernels/kernel_test_util.h"

using namespace repro;
using namespace repro::kernels;

TEST_CASE("dense_gemm equals its reference and at::matmul on odd shapes", "[kernels][dense]") {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(11);
  struct Shape {
    int64_t rows, cols;
  };
  for (Shape s : {Shape{1, 1}, Shape{5, 7}, Shape{4, 8}, Shape{13, 100}, Shape{37, 333}, Shape{64, 1024}})
    for (int64_t batch : {1, 2, 3, 4, 7, 16})
      for (Isa isa : test::available_isas()) {
        at::Tensor w = at::randn({s.rows, s.cols}, g);
        at::Tensor x = test::random_input(batch, s.cols, g);
        at::Tensor y = at::empty({batch, s.rows}), ref = at::empty({batch, s.rows});
        KernelOptions o;
        o.isa = isa;
        dense_gemm(x.data_ptr<float>(), batch, s.cols, w.data_ptr<float>(), s.rows, s.cols, s.cols,
                   y.data_ptr<float>(), s.rows, false, o);
        dense_gemm_reference(x.data_ptr<float>(), batch, s.cols, w.data_ptr<float>(), s.rows, s.cols, s.cols,
                             ref.data_ptr<float>(), s.rows, false);
        at::Tensor mag = at::matmul(x.abs(), w.abs().t());
        const std::string what = std::string(isa_name(isa)) + " " + std::to_string(s.rows) + "x" +
                                 std::to_string(s.cols) + " batch " + std::to_string(batch);
        test::check_close(y, ref, mag, what);
        test::check_close(y, at::matmul(x, w.t()), mag, what + " vs at::matmul");
      }
}

TEST_CASE("dense_gemm reads strided rows and accumulates into y", "[kernels][dense]") {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(12);
  const int64_t rows = 9, cols = 21, batch = 5;
  // Views into wider buffers: every stride differs from the row length.
  at::Tensor wbuf = at::randn({rows, cols + 3}, g), xbuf = test::random_input(batch, cols + 5, g);
  at::Tensor w = wbuf.narrow(1, 0, cols), x = xbuf.narrow(1, 0, cols);
  for (Isa isa : test::available_isas()) {
    at::Tensor ybuf = at::randn({batch, rows + 2}, g);
    at::Tensor y0 = ybuf.narrow(1, 0, rows).clone();
    KernelOptions o;
    o.isa = isa;
    dense_gemm(xbuf.data_ptr<float>(), batch, cols + 5, wbuf.data_ptr<float>(), rows, cols, cols + 3,
               ybuf.data_ptr<float>(), rows + 2, true, o);
    at::Tensor want = y0 + at::matmul(x, w.t());
    test::check_close(ybuf.narrow(1, 0, rows), want, at::matmul(x.abs(), w.abs().t()) + y0.abs(),
                      std::string(isa_name(isa)) + " strided accumulate");
  }
}

TEST_CASE("dense_gemm gives the same bits on 1 and 3 threads", "[kernels][dense]") {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(13);
  const int64_t rows = 301, cols = 517, batch = 3;  // enough work to split, rows not a multiple of 4
  at::Tensor w = at::randn({rows, cols}, g), x = test::random_input(batch, cols, g);
  for (Isa isa : test::available_isas()) {
    at::Tensor y1 = at::empty({batch, rows}), y3 = at::empty({batch, rows});
    KernelOptions o;
    o.isa = isa;
    o.threads = 1;
    dense_gemm(x.data_ptr<float>(), batch, cols, w.data_ptr<float>(), rows, cols, cols, y1.data_ptr<float>(), rows,
               false, o);
    o.threads = 3;
    dense_gemm(x.data_ptr<float>(), batch, cols, w.data_ptr<float>(), rows, cols, cols, y3.data_ptr<float>(), rows,
               false, o);
    CHECK(at::equal(y1, y3));
  }
}
