#include "core/allocator.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace repro {

void keep_freed_memory() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_MAX, 0);                  // large blocks come from the heap, not fresh mmaps
  mallopt(M_TRIM_THRESHOLD, 1 << 30);      // and freed heap memory is kept (up to 1 GiB at the top)
  mallopt(M_TOP_PAD, 64 << 20);
#endif
}

void release_free_memory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace repro
