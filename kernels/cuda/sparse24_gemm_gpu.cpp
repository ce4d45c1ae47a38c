#include "kernels/cuda/sparse24_gemm_gpu.h"

#include <map>
#include <tuple>

#include <fmt/format.h>

#include "core/error.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/cusparselt_loader.h"
#include "kernels/cuda/device_buffer.h"

namespace repro::kernels::gpu {

namespace lt = cusparselt;

namespace {

constexpr uint32_t kAlignment = 16;  // bytes

// Descriptors and plan for one (batch, ldx, ldy). Column-major view of the row-major buffers:
// y^T [out, batch] = W [out, in] x^T; W row-major is the column-major [in, out] matrix W^T with
// op(A) = T (its 2:4 runs along in, the reduction dimension); x row-major is column-major x^T.
struct PlanSet {
  lt::MatDescriptor a, b, c;
  lt::MatmulDescriptor mm;
  lt::AlgSelection alg;
  lt::Plan plan;
  DeviceBuffer<unsigned char> workspace;
  bool ready = false;
  ~PlanSet() {
    if (!ready) return;
    const lt::Api& api = lt::api();
    (void)api.plan_destroy(&plan);
    (void)api.mat_descriptor_destroy(&a);
    (void)api.mat_descriptor_destroy(&b);
    (void)api.mat_descriptor_destroy(&c);
  }
};

void sparse_descriptor(const lt::Api& api, const lt::Handle* h, lt::MatDescriptor* d, int64_t out, int64_t in) {
  lt::check(api.structured_descriptor_init(h, d, in, out, in, kAlignment, CUDA_R_16F, lt::kOrderCol, lt::kSparsity50),
            "cusparseLtStructuredDescriptorInit");
}

}  // namespace

struct Sparse24GemmGpu::Impl {
  int64_t out = 0, in = 0;
  lt::Handle handle;
  bool handle_ready = false;
  DeviceBuffer<unsigned char> compressed;
  std::map<std::tuple<int64_t, int64_t, int64_t>, std::unique_ptr<PlanSet>> plans;

  ~Impl() {
    plans.clear();
    if (handle_ready) (void)lt::api().destroy(&handle);
  }

  PlanSet& plan_for(int64_t batch, int64_t ldx, int64_t ldy) {
    auto& slot = plans[{batch, ldx, ldy}];
    if (slot) return *slot;
    const lt::Api& api = lt::api();
    auto p = std::make_unique<PlanSet>();
    sparse_descriptor(api, &handle, &p->a, out, in);
    lt::check(api.dense_descriptor_init(&handle, &p->b, in, batch, ldx, kAlignment, CUDA_R_16F, lt::kOrderCol),
              "cusparseLtDenseDescriptorInit (x)");
    lt::check(api.dense_descriptor_init(&handle, &p->c, out, batch, ldy, kAlignment, CUDA_R_16F, lt::kOrderCol),
              "cusparseLtDenseDescriptorInit (y)");
    const int compute = lt::compute_type_fp32_accumulate(api.version);
    lt::check(api.matmul_descriptor_init(&handle, &p->mm, lt::kOpTranspose, lt::kOpNonTranspose, &p->a, &p->b, &p->c,
                                         &p->c, compute),
              "cusparseLtMatmulDescriptorInit");
    lt::check(api.alg_selection_init(&handle, &p->alg, &p->mm, lt::kAlgDefault), "cusparseLtMatmulAlgSelectionInit");
    lt::check(api.plan_init(&handle, &p->plan, &p->mm, &p->alg), "cusparseLtMatmulPlanInit");
    p->ready = true;
    size_t ws = 0;
    lt::check(api.get_workspace(&handle, &p->plan, &ws), "cusparseLtMatmulGetWorkspace");
    p->workspace = DeviceBuffer<unsigned char>(ws);
    slot = std::move(p);
    return *slot;
  }
};

bool Sparse24GemmGpu::supported(int64_t out, int64_t in, int64_t batch, int64_t ldx, int64_t ldy) {
  return out > 0 && in > 0 && out % 16 == 0 && in % 16 == 0 && batch > 0 && batch % 8 == 0 && ldx >= in &&
         ldx % 8 == 0 && ldy >= out && ldy % 8 == 0;
}

Sparse24GemmGpu::Sparse24GemmGpu(const __half* W, int64_t out, int64_t in, cudaStream_t stream)
    : impl_(std::make_unique<Impl>()) {
  if (!supported(out, in, 8, in, out))
    throw NotSupported(fmt::format("cuSPARSELt 2:4 GEMM: a [{}, {}] weight is not supported (out and in must be "
                                   "multiples of 16)",
                                   out, in));
  const lt::Api& api = lt::api();
  impl_->out = out;
  impl_->in = in;
  lt::check(api.init(&impl_->handle), "cusparseLtInit");
  impl_->handle_ready = true;
  lt::MatDescriptor a;
  sparse_descriptor(api, &impl_->handle, &a, out, in);
  // The pattern check: a weight that is not 2:4 is the caller's data error.
  DeviceBuffer<int> valid(1);
  lt::check(api.prune_check2(&impl_->handle, &a, 1, lt::kOpTranspose, W, valid.get(), stream), "cusparseLtSpMMAPruneCheck2");
  check_cuda(cudaStreamSynchronize(stream), "cusparseLtSpMMAPruneCheck2");
  const int bad = valid.download()[0];
  size_t compressed = 0, scratch = 0;
  if (bad == 0) {
    lt::check(api.compressed_size2(&impl_->handle, &a, &compressed, &scratch), "cusparseLtSpMMACompressedSize2");
    impl_->compressed = DeviceBuffer<unsigned char>(compressed);
    DeviceBuffer<unsigned char> buffer(scratch);
    lt::check(api.compress2(&impl_->handle, &a, 1, lt::kOpTranspose, W, impl_->compressed.get(), buffer.get(), stream),
              "cusparseLtSpMMACompress2");
    check_cuda(cudaStreamSynchronize(stream), "cusparseLtSpMMACompress2");
  }
  (void)api.mat_descriptor_destroy(&a);
  if (bad != 0)
    throw DataError(fmt::format("cuSPARSELt 2:4 GEMM: the [{}, {}] weight keeps more than 2 of some 4 consecutive "
                                "entries along its input dimension",
                                out, in));
}

Sparse24GemmGpu::~Sparse24GemmGpu() = default;

void Sparse24GemmGpu::run(const __half* x, int64_t batch, int64_t ldx, __half* y, int64_t ldy, float beta,
                          cudaStream_t stream) {
  if (!supported(impl_->out, impl_->in, batch, ldx, ldy))
    throw NotSupported(fmt::format("cuSPARSELt 2:4 GEMM: batch {} (a multiple of 8), ldx {} and ldy {} (multiples of "
                                   "8, at least {} and {}) are not supported",
                                   batch, ldx, ldy, impl_->in, impl_->out));
  PlanSet& p = impl_->plan_for(batch, ldx, ldy);
  const float alpha = 1.0f;
  cudaStream_t streams[1] = {stream};
  lt::check(lt::api().matmul(&impl_->handle, &p.plan, &alpha, impl_->compressed.get(), x, &beta, y, y,
                             p.workspace.get(), streams, 1),
            "cusparseLtMatmul");
}

int64_t Sparse24GemmGpu::out() const { return impl_->out; }
int64_t Sparse24GemmGpu::in() const { return impl_->in; }
int64_t Sparse24GemmGpu::compressed_bytes() const { return static_cast<int64_t>(impl_->compressed.bytes()); }

}  // namespace repro::kernels::gpu
