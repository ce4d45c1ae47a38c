// S + LR: y = x S^T + (x V^T) U^T with S 2:4-packed or dense equals the reference and
// x (S + U V)^T from at::matmul.

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <fmt/format.h>

#include "kernels/sparse_lowrank.h"
#include "tests/kernels/kernel_test_util.h"

using namespace repro;
using namespace repro::kernels;

TEST_CASE("sparse + low-rank products equal the reference and at::matmul", "[kernels][slr]") {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(41);
  struct Shape {
    int64_t rows, cols, rank;
  };
  for (Shape sh : {Shape{1, 4, 1}, Shape{13, 100, 3}, Shape{37, 256, 16}, Shape{64, 132, 0}})
    for (int64_t batch : {1, 3, 8, 17}) {
      at::Tensor order = at::rand({sh.rows, sh.cols / 4, 4}, g).argsort();
      at::Tensor mask = order.lt(2).reshape({sh.rows, sh.cols}).contiguous();
      at::Tensor S = (at::randn({sh.rows, sh.cols}, g) * mask).contiguous();
      at::Tensor U = at::randn({sh.rows, sh.rank}, g) * 0.1, V = at::randn({sh.rank, sh.cols}, g) * 0.1;
      at::Tensor values = at::empty({sh.rows, sh.cols / 2}), indices = at::empty({sh.rows, sh.cols / 2}, at::kByte);
      REQUIRE(sparse24_from_dense(S.data_ptr<float>(), mask.data_ptr<bool>(), sh.rows, sh.cols,
                                  values.data_ptr<float>(), indices.data_ptr<uint8_t>()));
      Packed24 p = pack_sparse24(values.data_ptr<float>(), indices.data_ptr<uint8_t>(), sh.rows, sh.cols);
      at::Tensor x = test::random_input(batch, sh.cols, g);
      at::Tensor ref = at::empty({batch, sh.rows});
      sparse_lowrank_reference(S.data_ptr<float>(), sh.rows, sh.cols, U.data_ptr<float>(), V.data_ptr<float>(),
                               sh.rank, x.data_ptr<float>(), batch, sh.cols, ref.data_ptr<float>(), sh.rows);
      at::Tensor want = at::matmul(x, (S + at::matmul(U, V)).t());
      // Bound: |x| |S|^T + (|x| |V|^T) |U|^T covers both products' terms.
      at::Tensor mag = at::matmul(x.abs(), S.abs().t()) + at::matmul(at::matmul(x.abs(), V.abs().t()), U.abs().t());
      for (Isa isa : test::available_isas()) {
        KernelOptions o;
        o.isa = isa;
        const std::string what = fmt::format("{} {}x{} rank {} batch {}", isa_name(isa), sh.rows, sh.cols, sh.rank,
                                             batch);
        at::Tensor y = at::empty({batch, sh.rows});
        sparse24_lowrank_gemm(p, U.data_ptr<float>(), V.data_ptr<float>(), sh.rank, x.data_ptr<float>(), batch,
                              sh.cols, y.data_ptr<float>(), sh.rows, o);
        test::check_close(y, ref, mag, what + " 2:4");
        test::check_close(y, want, mag, what + " 2:4 vs at::matmul");
        at::Tensor yd = at::empty({batch, sh.rows});
        dense_lowrank_gemm(S.data_ptr<float>(), sh.cols, sh.rows, sh.cols, U.data_ptr<float>(), V.data_ptr<float>(),
                           sh.rank, x.data_ptr<float>(), batch, sh.cols, yd.data_ptr<float>(), sh.rows, o);
        test::check_close(yd, ref, mag, what + " dense S");
      }
    }
}
