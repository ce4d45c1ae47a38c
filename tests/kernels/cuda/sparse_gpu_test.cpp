// [cuda] The cuBLAS and cuSPARSELt products on a GPU against the CPU references of kernels/:
// dense fp16 linear (forward and both backward products), 2:4 GEMM (plain and accumulating),
// S + LR with dense and 2:4 S, and the transposable 2:4 training layer. The 2:4 parts pass with a
// warning when cuSPARSELt cannot be loaded. Also, without a GPU: the loader's message when the
// library is absent.
#if defined(REPRO_HAVE_CUDA_KERNELS)

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <fmt/format.h>

#include "core/error.h"
#include "kernels/cuda/cublas_gemm.h"
#include "kernels/cuda/cusparselt_loader.h"
#include "kernels/cuda/sparse24_gemm_gpu.h"
#include "kernels/cuda/sparse_lowrank_gpu.h"
#include "kernels/cuda/transposable_nm_gpu.h"
#include "kernels/sparse_lowrank.h"
#include "tests/kernels/cuda/gpu_test_util.h"

using namespace repro;
using namespace repro::kernels::gpu;

namespace {

// W [out, in] with 2 of every 4 consecutive entries along in kept (the two largest |W|).
at::Tensor random_24(int64_t out, int64_t in, at::Generator& g) {
  at::Tensor w = at::randn({out, in / 4, 4}, g);
  at::Tensor idx = std::get<1>(w.abs().topk(2, 2));
  at::Tensor mask = at::zeros_like(w, at::kBool).scatter_(2, idx, true);
  return (w * mask).view({out, in});
}

// A transposable 2:4 mask [out, in]: in each 4 x 4 block, row i keeps columns (p(i) + 0, 1) mod 4
// for a random permutation p, so every row and every column of the block keeps 2.
at::Tensor transposable_mask(int64_t out, int64_t in, at::Generator& g) {
  at::Tensor mask = at::zeros({out, in}, at::kByte);
  for (int64_t r0 = 0; r0 < out; r0 += 4)
    for (int64_t c0 = 0; c0 < in; c0 += 4) {
      at::Tensor p = at::randperm(4, g);
      for (int i = 0; i < 4; ++i)
        for (int t = 0; t < 2; ++t) mask[r0 + i][c0 + (p[i].item<int64_t>() + t) % 4] = 1;
    }
  return mask;
}

// x W^T, its magnitude |x| |W|^T. x: [batch, in], W: [out, in] fp32.
at::Tensor magnitude(const at::Tensor& x, const at::Tensor& W) { return at::matmul(x.abs(), W.abs().t()); }

}  // namespace

TEST_CASE("cuSPARSELt loader: a missing library is a NotSupported error that names it", "[kernels][cuda_host]") {
  std::string why;
  if (cusparselt::available(&why)) {
    CHECK(cusparselt::api().version >= 400);
    return;
  }
  CHECK(why.find("libcusparseLt.so.0") != std::string::npos);
  CHECK(why.find("LD_LIBRARY_PATH") != std::string::npos);
  CHECK_THROWS_AS(cusparselt::api(), NotSupported);
  CHECK(cusparselt::compute_type_fp32_accumulate(801) == 2);
  CHECK(cusparselt::compute_type_fp32_accumulate(400) == 0);
}

TEST_CASE("dense fp16 linear through cuBLAS equals the reference", "[kernels][cuda]") {
  REPRO_REQUIRE_CUDA_DEVICE();
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(31);
  CublasHandle h;
  for (auto [out, in, batch] : {std::tuple<int64_t, int64_t, int64_t>{96, 200, 1}, {256, 512, 16}, {33, 77, 5}}) {
    INFO(fmt::format("[{}, {}] batch {}", out, in, batch));
    test::HalfTensor W = test::to_device_half(at::randn({out, in}, g) * 0.1);
    test::HalfTensor x = test::to_device_half(at::randn({batch, in}, g));
    test::HalfTensor dy = test::to_device_half(at::randn({batch, out}, g));
    DeviceBuffer<__half> y(batch * out), dx(batch * in), dW(out * in);
    dense_linear_fp16(h, W.device.get(), out, in, in, x.device.get(), batch, in, y.get(), out, 0.0f, nullptr);
    dense_linear_backward_input_fp16(h, W.device.get(), out, in, in, dy.device.get(), batch, out, dx.get(), in, nullptr);
    dense_linear_backward_weight_fp16(h, dy.device.get(), batch, out, out, x.device.get(), in, in, dW.get(), in, nullptr);
    check_cuda(cudaDeviceSynchronize(), "cuBLAS");
    test::check_half_close(test::from_device_half(y, {batch, out}), at::matmul(x.rounded, W.rounded.t()),
                           magnitude(x.rounded, W.rounded), "y = x W^T");
    test::check_half_close(test::from_device_half(dx, {batch, in}), at::matmul(dy.rounded, W.rounded),
                           at::matmul(dy.rounded.abs(), W.rounded.abs()), "dx = dy W");
    test::check_half_close(test::from_device_half(dW, {out, in}), at::matmul(dy.rounded.t(), x.rounded),
                           at::matmul(dy.rounded.abs().t(), x.rounded.abs()), "dW = dy^T x");
  }
}

TEST_CASE("2:4 GEMM through cuSPARSELt equals the reference", "[kernels][cuda]") {
  REPRO_REQUIRE_CUDA_DEVICE();
  std::string why;
  if (!cusparselt::available(&why)) {
    WARN("cuSPARSELt not loadable, 2:4 GPU tests skipped: " << why);
    return;
  }
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(37);
  for (auto [out, in, batch] : {std::tuple<int64_t, int64_t, int64_t>{64, 128, 8}, {256, 512, 16}, {128, 1024, 64}}) {
    INFO(fmt::format("[{}, {}] batch {}", out, in, batch));
    test::HalfTensor W = test::to_device_half(random_24(out, in, g) * 0.1);
    test::HalfTensor x = test::to_device_half(at::randn({batch, in}, g));
    test::HalfTensor y0 = test::to_device_half(at::randn({batch, out}, g));
    Sparse24GemmGpu s(W.device.get(), out, in, nullptr);
    CHECK(s.compressed_bytes() > 0);
    CHECK(s.compressed_bytes() < out * in * 2);
    DeviceBuffer<__half> y(batch * out);
    s.run(x.device.get(), batch, in, y.get(), out, 0.0f, nullptr);
    s.run(x.device.get(), batch, in, y0.device.get(), out, 1.0f, nullptr);  // accumulate
    check_cuda(cudaDeviceSynchronize(), "cusparseLtMatmul");
    const at::Tensor ref = at::matmul(x.rounded, W.rounded.t());
    test::check_half_close(test::from_device_half(y, {batch, out}), ref, magnitude(x.rounded, W.rounded), "2:4");
    test::check_half_close(test::from_device_half(y0.device, {batch, out}), ref + y0.rounded,
                           magnitude(x.rounded, W.rounded) + y0.rounded.abs(), "2:4, beta = 1");
  }
  // A weight that is not 2:4 is refused.
  test::HalfTensor dense = test::to_device_half(at::randn({64, 128}, g));
  CHECK_THROWS_AS(Sparse24GemmGpu(dense.device.get(), 64, 128, nullptr), DataError);
  CHECK_THROWS_AS(Sparse24GemmGpu(dense.device.get(), 60, 128, nullptr), NotSupported);
}

TEST_CASE("S + LR on the GPU equals sparse_lowrank_reference", "[kernels][cuda]") {
  REPRO_REQUIRE_CUDA_DEVICE();
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(41);
  CublasHandle h;
  const bool have_lt = cusparselt::available();
  if (!have_lt) WARN("cuSPARSELt not loadable: only the dense-S path is tested");
  for (bool sparse : {false, true}) {
    if (sparse && !have_lt) continue;
    for (int64_t rank : {int64_t{0}, int64_t{8}, int64_t{64}}) {
      const int64_t out = 256, in = 512, batch = 16;
      INFO(fmt::format("sparse {} rank {}", sparse, rank));
      test::HalfTensor S = test::to_device_half(random_24(out, in, g) * 0.1);
      test::HalfTensor U = test::to_device_half(at::randn({out, std::max<int64_t>(rank, 1)}, g).narrow(1, 0, rank) * 0.1);
      test::HalfTensor V = test::to_device_half(at::randn({std::max<int64_t>(rank, 1), in}, g).narrow(0, 0, rank) * 0.1);
      test::HalfTensor x = test::to_device_half(at::randn({batch, in}, g));
      SparseLowRankGpu op(S.device.get(), sparse, out, in, U.device.get(), V.device.get(), rank, nullptr);
      DeviceBuffer<__half> y(batch * out);
      op.run(h, x.device.get(), batch, in, y.get(), out, nullptr);
      check_cuda(cudaDeviceSynchronize(), "S + LR");
      at::Tensor ref = at::empty({batch, out});
      kernels::sparse_lowrank_reference(S.rounded.data_ptr<float>(), out, in, U.rounded.data_ptr<float>(),
                                        V.rounded.data_ptr<float>(), rank, x.rounded.data_ptr<float>(), batch, in,
                                        ref.data_ptr<float>(), out);
      at::Tensor mag = magnitude(x.rounded, S.rounded);
      if (rank > 0) mag = mag + at::matmul(at::matmul(x.rounded.abs(), V.rounded.abs().t()), U.rounded.abs().t());
      test::check_half_close(test::from_device_half(y, {batch, out}), ref, mag, "S + LR");
    }
  }
}

TEST_CASE("transposable 2:4 linear: forward, input and weight gradients", "[kernels][cuda]") {
  REPRO_REQUIRE_CUDA_DEVICE();
  std::string why;
  if (!cusparselt::available(&why)) {
    WARN("cuSPARSELt not loadable, transposable 2:4 GPU test skipped: " << why);
    return;
  }
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(43);
  CublasHandle h;
  const int64_t out = 128, in = 256, batch = 32;
  at::Tensor mask = transposable_mask(out, in, g);
  REQUIRE(mask.view({out / 4, 4, in / 4, 4}).sum(3).eq(2).all().item<bool>());
  REQUIRE(mask.view({out / 4, 4, in / 4, 4}).sum(1).eq(2).all().item<bool>());
  test::HalfTensor W = test::to_device_half(at::randn({out, in}, g) * mask.to(at::kFloat) * 0.1);
  DeviceBuffer<uint8_t> dmask(mask.data_ptr<uint8_t>(), mask.numel());
  test::HalfTensor x = test::to_device_half(at::randn({batch, in}, g));
  test::HalfTensor dy = test::to_device_half(at::randn({batch, out}, g));
  TransposableSparseLinearGpu layer(W.device.get(), dmask.get(), out, in, nullptr);
  DeviceBuffer<__half> y(batch * out), dx(batch * in), dW(out * in);
  layer.forward(x.device.get(), batch, in, y.get(), out, nullptr);
  layer.backward_input(dy.device.get(), batch, out, dx.get(), in, nullptr);
  layer.backward_weight(h, dy.device.get(), batch, out, x.device.get(), in, dW.get(), nullptr);
  check_cuda(cudaDeviceSynchronize(), "transposable 2:4");
  test::check_half_close(test::from_device_half(y, {batch, out}), at::matmul(x.rounded, W.rounded.t()),
                         magnitude(x.rounded, W.rounded), "forward");
  test::check_half_close(test::from_device_half(dx, {batch, in}), at::matmul(dy.rounded, W.rounded),
                         at::matmul(dy.rounded.abs(), W.rounded.abs()), "backward input");
  const at::Tensor gw = test::from_device_half(dW, {out, in});
  test::check_half_close(gw, at::matmul(dy.rounded.t(), x.rounded) * mask.to(at::kFloat),
                         at::matmul(dy.rounded.abs().t(), x.rounded.abs()), "backward weight (masked)");
  CHECK(gw.masked_select(mask.eq(0)).abs().max().item<float>() == 0.0f);
  // A mask that is 2:4 by rows but not by columns is refused.
  at::Tensor rows_only = at::zeros({out, in}, at::kByte);
  rows_only.view({out, in / 4, 4}).narrow(2, 0, 2).fill_(1);
  test::HalfTensor Wr = test::to_device_half(at::randn({out, in}, g) * rows_only.to(at::kFloat));
  DeviceBuffer<uint8_t> dr(rows_only.data_ptr<uint8_t>(), rows_only.numel());
  CHECK_THROWS_AS(TransposableSparseLinearGpu(Wr.device.get(), dr.get(), out, in, nullptr), DataError);
}

#endif  // REPRO_HAVE_CUDA_KERNELS
