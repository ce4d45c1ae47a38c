#include "core/memory.h"

#include <algorithm>
#include <fstream>
#include <string>

#include "core/allocator.h"
#include "core/error.h"

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

double host_total_mb() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  double kb = 0;
  while (in >> key >> kb) {
    if (key == "MemTotal:") return kb / 1024.0;
    in.ignore(1 << 10, '\n');
  }
  return 0;
}

bool reset_host_peak() {
  std::ofstream out("/proc/self/clear_refs");
  if (!out) return false;
  out << "5";
  return static_cast<bool>(out);
}

#ifdef REPRO_WITH_CUDA
namespace {
// The allocator's aggregate byte counters (index 0 = StatType::AGGREGATE in every libtorch since
// 1.x; the enum moved namespaces in 2.x, the index did not). Empty without a device.
bool cuda_bytes(int index, double* current_mb, double* peak_mb) {
  if (c10::cuda::device_count() == 0) return false;
  const auto dev = static_cast<c10::DeviceIndex>(index < 0 ? c10::cuda::current_device() : index);
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(dev);
  const auto& s = stats.allocated_bytes[0];
  if (current_mb) *current_mb = static_cast<double>(s.current) / (1024.0 * 1024.0);
  if (peak_mb) *peak_mb = static_cast<double>(s.peak) / (1024.0 * 1024.0);
  return true;
}
}  // namespace

double cuda_peak_allocated_mb(int index) {
  double peak = 0;
  return cuda_bytes(index, nullptr, &peak) ? peak : 0.0;
}
double cuda_current_allocated_mb(int index) {
  double current = 0;
  return cuda_bytes(index, &current, nullptr) ? current : 0.0;
}
void reset_cuda_peak(int index) {
  if (c10::cuda::device_count() == 0) return;
  c10::cuda::CUDACachingAllocator::resetPeakStats(
      static_cast<c10::DeviceIndex>(index < 0 ? c10::cuda::current_device() : index));
}
#else
double cuda_peak_allocated_mb(int) { return 0.0; }
double cuda_current_allocated_mb(int) { return 0.0; }
void reset_cuda_peak(int) {}
#endif

MemoryMeter::MemoryMeter(c10::Device device) : device_(device) {}

MemoryMeter::Phase::Phase(MemoryMeter& meter, std::string name) : meter_(meter), depth_(meter.stack_.size()) {
  meter_.open(std::move(name));
}

MemoryMeter::Phase::~Phase() { meter_.close(depth_); }

void MemoryMeter::fold() {
  const double host = host_peak_rss_mb();
  const double dev = cuda() ? cuda_peak_allocated_mb(device_.index()) : 0.0;
  for (auto& o : stack_) {
    o.mem.host_peak_mb = std::max(o.mem.host_peak_mb, host);
    o.mem.cuda_peak_mb = std::max(o.mem.cuda_peak_mb, dev);
  }
}

void MemoryMeter::open(std::string name) {
  fold();  // what the open phases reached so far, before the marks are reset
  release_free_memory();
  reset_host_peak();
  if (cuda()) reset_cuda_peak(device_.index());
  Open o;
  o.name = std::move(name);
  o.mem.host_start_mb = host_current_rss_mb();
  o.mem.host_peak_mb = o.mem.host_start_mb;
  if (cuda()) {
    o.mem.cuda_start_mb = cuda_current_allocated_mb(device_.index());
    o.mem.cuda_peak_mb = o.mem.cuda_start_mb;
  }
  stack_.push_back(std::move(o));
}

void MemoryMeter::close(size_t depth) {
  // Scopes end in reverse order of their start (they cannot be moved), so the phase is on top
  // unless begin_row() dropped it; this runs in a destructor and must not throw.
  if (stack_.size() != depth + 1) return;
  fold();
  Open o = std::move(stack_.back());
  stack_.pop_back();
  o.mem.host_added_mb = o.mem.host_peak_mb - o.mem.host_start_mb;
  o.mem.cuda_added_mb = o.mem.cuda_peak_mb - o.mem.cuda_start_mb;
  auto [it, fresh] = phases_.try_emplace(o.name, o.mem);
  if (!fresh) {
    PhaseMemory& m = it->second;
    if (o.mem.host_added_mb > m.host_added_mb) {
      m.host_start_mb = o.mem.host_start_mb;
      m.host_added_mb = o.mem.host_added_mb;
    }
    if (o.mem.cuda_added_mb > m.cuda_added_mb) {
      m.cuda_start_mb = o.mem.cuda_start_mb;
      m.cuda_added_mb = o.mem.cuda_added_mb;
    }
    m.host_peak_mb = std::max(m.host_peak_mb, o.mem.host_peak_mb);
    m.cuda_peak_mb = std::max(m.cuda_peak_mb, o.mem.cuda_peak_mb);
  }
}

void MemoryMeter::begin_row() {
  REPRO_ASSERT(stack_.size() <= 1, "begin_row inside an open memory phase");
  stack_.clear();
  phases_.clear();
  open("row");
}

std::map<std::string, double> MemoryMeter::peaks_mb() {
  fold();
  std::map<std::string, double> out;
  if (!stack_.empty()) {
    out["host"] = stack_.front().mem.host_peak_mb;
    if (cuda()) out["cuda"] = stack_.front().mem.cuda_peak_mb;
  }
  for (const auto& [name, m] : phases_) {
    out[name + ".host"] = m.host_peak_mb;
    if (cuda()) out[name + ".cuda"] = m.cuda_peak_mb;
  }
  return out;
}

const PhaseMemory* MemoryMeter::find(const std::string& phase) const {
  auto it = phases_.find(phase);
  return it == phases_.end() ? nullptr : &it->second;
}

}  // namespace repro
