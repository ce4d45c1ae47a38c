#pragma once
// Allocator tuning for long libtorch runs on CPU.

namespace repro {

// glibc returns large freed blocks to the OS (mmap/trim), so a training or evaluation loop that
// frees and reallocates the same big tensors every step pays page faults on every allocation
// (measured: a quarter of a zoo training step in the kernel's page-fault handler). This keeps
// freed memory in the heap for reuse. Call once at program start; a no-op off glibc.
void keep_freed_memory();

// Returns the heap's free pages to the OS (malloc_trim), e.g. before measuring the peak memory of a
// phase, so that what an earlier phase freed does not count. A no-op off glibc.
void release_free_memory();

}  // namespace repro
