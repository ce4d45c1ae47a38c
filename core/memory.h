#pragma once
// Peak memory: host resident set (from /proc) and, on CUDA builds, the caching allocator's peak.

namespace repro {

// Peak resident set size of this process in MiB since start or since the last reset.
double host_peak_rss_mb();
double host_current_rss_mb();
// Resets the host peak to the current RSS (Linux clear_refs); false where unsupported.
bool reset_host_peak();

// CUDA max allocated MiB on the current device (0 without CUDA), and its reset.
double cuda_peak_allocated_mb();
void reset_cuda_peak();

}  // namespace repro
