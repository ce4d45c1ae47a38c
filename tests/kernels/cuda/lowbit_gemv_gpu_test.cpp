// [cuda] The low-bit GEMV kernel on a GPU: bit for bit its host emulation (which the CPU tests
// check against lowbit_gemm_reference) and within fp16 rounding of the reference, for 2/3/4 bits,
// groups of 128, 256 and the whole row, odd shapes, batches 1..33, aligned and unaligned x.
#if defined(REPRO_HAVE_CUDA_KERNELS)

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <fmt/format.h>

#include "kernels/cuda/lowbit_gemv.h"
#include "kernels/lowbit_gemm.h"
#include "tests/kernels/cuda/gpu_test_util.h"

using namespace repro;
using namespace repro::kernels;
using namespace repro::kernels::gpu;

TEST_CASE("lowbit_gemv on the GPU equals its emulation and the reference", "[kernels][cuda]") {
  REPRO_REQUIRE_CUDA_DEVICE();
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(23);
  struct Shape { int64_t rows, cols, group; };
  const Shape shapes[] = {{33, 1024, 128}, {7, 1000, 1000}, {65, 3 * 1024 + 256, 256}, {4, 5 * 1024 + 130, 128}, {9, 2048 + 512, 384},
                          {1024, 14336, 128}};
  for (int bits : {2, 3, 4})
    for (const Shape& sh : shapes)
      for (int64_t batch : {int64_t{1}, int64_t{4}, int64_t{16}, int64_t{33}})
        for (int64_t pad : {int64_t{0}, int64_t{3}}) {  // pad 3: ldx not a multiple of 4, scalar x loads
          if (sh.rows == 1024 && (batch > 16 || pad)) continue;
          INFO(fmt::format("bits {} [{}, {}] group {} batch {} ldx pad {}", bits, sh.rows, sh.cols, sh.group, batch, pad));
          const int64_t ng = (sh.cols + sh.group - 1) / sh.group;
          at::Tensor codes = at::randint(0, int64_t{1} << bits, {sh.rows, sh.cols}, g, at::kByte);
          at::Tensor scales = (at::rand({sh.rows, ng}, g) + 0.01) * 0.05;
          at::Tensor zeros = at::randint(0, int64_t{1} << bits, {sh.rows, ng}, g, at::kFloat);
          const PackedLowBitGpu w = pack_lowbit_gpu(codes.data_ptr<uint8_t>(), scales.data_ptr<float>(),
                                                    zeros.data_ptr<float>(), sh.rows, sh.cols, bits, sh.group);
          const LowBitGpuWeight dw = upload_lowbit(w);
          const int64_t ldx = sh.cols + pad, ldy = sh.rows + 1;
          test::HalfTensor x = test::to_device_half(at::rand({batch, ldx}, g) * 2 - 1);
          DeviceBuffer<__half> y(static_cast<size_t>(batch * ldy));
          check_cuda(cudaMemset(y.get(), 0, y.bytes()), "cudaMemset");
          lowbit_gemv(dw, x.device.get(), batch, ldx, y.get(), ldy, nullptr);
          check_cuda(cudaDeviceSynchronize(), "lowbit_gemv");
          const at::Tensor got = test::from_device_half(y, {batch, ldy});
          // The emulation, bit for bit.
          std::vector<uint16_t> xh(batch * ldx), yh(batch * ldy, 0);
          for (int64_t k = 0; k < batch * ldx; ++k) xh[k] = float_to_half_bits(x.rounded.data_ptr<float>()[k]);
          lowbit_gemm_gpu_emulate(w, xh.data(), batch, ldx, yh.data(), ldy);
          int64_t differ = 0;
          for (int64_t b = 0; b < batch; ++b)
            for (int64_t r = 0; r < sh.rows; ++r)
              differ += float_to_half_bits(got[b][r].item<float>()) != yh[b * ldy + r];
          CHECK(differ == 0);
          // The reference on the fp16 scales and zeros.
          at::Tensor es = at::empty_like(scales), ez = at::empty_like(zeros);
          lowbit_gpu_effective_params(w, es.data_ptr<float>(), ez.data_ptr<float>());
          at::Tensor ref = at::empty({batch, sh.rows});
          lowbit_gemm_reference(codes.data_ptr<uint8_t>(), es.data_ptr<float>(), ez.data_ptr<float>(), sh.rows, sh.cols,
                                sh.group, x.rounded.data_ptr<float>(), batch, ldx, ref.data_ptr<float>(), sh.rows);
          at::Tensor idx = at::arange(sh.cols, at::kLong).div(sh.group, "floor");
          at::Tensor mag = at::matmul(x.rounded.narrow(1, 0, sh.cols).abs(),
                                      (es.index_select(1, idx) * (codes.to(at::kFloat) + ez.index_select(1, idx))).t());
          test::check_half_close(got.narrow(1, 0, sh.rows), ref, mag, "lowbit_gemv vs reference", 1e-5);
        }
}

#endif  // REPRO_HAVE_CUDA_KERNELS
