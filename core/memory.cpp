#include "core/memory.h"

#include <fstream>
#include <string>

#ifdef REPRO_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace repro {

namespace {
double status_field_mb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string key = field;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size(), key) == 0) {
      return std::stod(line.substr(key.size())) / 1024.0;  // kB -> MiB
    }
  }
  return 0.0;
}
}  // namespace

double host_peak_rss_mb() { return status_field_mb("VmHWM:"); }
double host_current_rss_mb() { return status_field_mb("VmRSS:"); }

bool reset_host_peak() {
  std::ofstream out("/proc/self/clear_refs");
  if (!out) return false;
  out << "5";
  return static_cast<bool>(out);
}

#ifdef REPRO_WITH_CUDA
double cuda_peak_allocated_mb() {
  if (c10::cuda::device_count() == 0) return 0.0;
  auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(c10::cuda::current_device());
  using c10::cuda::CUDACachingAllocator::StatType;
  return stats.allocated_bytes[static_cast<size_t>(StatType::AGGREGATE)].peak / (1024.0 * 1024.0);
}
void reset_cuda_peak() {
  if (c10::cuda::device_count() == 0) return;
  c10::cuda::CUDACachingAllocator::resetPeakStats(c10::cuda::current_device());
}
#else
double cuda_peak_allocated_mb() { return 0.0; }
void reset_cuda_peak() {}
#endif

}  // namespace repro
