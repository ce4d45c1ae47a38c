#include "methods/common/large_buffer.h"

#include <ATen/ATen.h>

#include <cstdlib>

#ifdef __linux__
#include <sys/mman.h>
#endif

namespace repro {

at::Tensor empty_large(at::IntArrayRef sizes, const at::TensorOptions& options) {
#ifdef __linux__
  const bool cpu = !options.has_device() || options.device().is_cpu();
  int64_t numel = 1;
  for (int64_t s : sizes) numel *= s;
  const int64_t bytes = numel * static_cast<int64_t>(c10::elementSize(c10::typeMetaToScalarType(options.dtype())));
  if (cpu && bytes >= kLargeBufferBytes) {
    constexpr size_t kHuge = size_t{2} << 20;
    const size_t rounded = (static_cast<size_t>(bytes) + kHuge - 1) / kHuge * kHuge;
    void* p = nullptr;
    if (posix_memalign(&p, kHuge, rounded) == 0) {
      madvise(p, rounded, MADV_HUGEPAGE);  // a hint: failure only costs the page faults
      return at::from_blob(p, sizes, [](void* q) { std::free(q); }, options.device(at::kCPU));
    }
  }
#endif
  return at::empty(sizes, options);
}

at::Tensor copy_large(const at::Tensor& src) {
  at::Tensor out = empty_large(src.sizes(), src.options());
  out.copy_(src);
  return out;
}

}  // namespace repro
