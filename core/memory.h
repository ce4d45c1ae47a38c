#pragma once
// Peak memory: host resident set (from /proc) and, on CUDA builds, the caching allocator's peak;
// and the one definition of "peak memory of a phase" every suite uses (MemoryMeter).

#include <map>
#include <string>
#include <vector>

#include <c10/core/Device.h>

namespace repro {

// Peak resident set size of this process in MiB since start or since the last reset.
double host_peak_rss_mb();
double host_current_rss_mb();
// The machine's physical memory (MemTotal of /proc/meminfo) in MiB; 0 when unreadable.
double host_total_mb();
// Resets the host peak to the current RSS (Linux clear_refs); false where unsupported.
bool reset_host_peak();

// The CUDA caching allocator's peak and current allocated MiB on device `index` (-1: the current
// device), and the reset of its peak. 0 (and no-op) in builds without CUDA or without a device.
double cuda_peak_allocated_mb(int index = -1);
double cuda_current_allocated_mb(int index = -1);
void reset_cuda_peak(int index = -1);

// Memory of one phase, in MiB: at its start and the highest mark reached while it ran.
struct PhaseMemory {
  double host_start_mb = 0, host_peak_mb = 0;
  double cuda_start_mb = 0, cuda_peak_mb = 0;
  // What the phase added on top of what was held when it started (its largest run, when a phase
  // ran several times).
  double host_added_mb = 0, cuda_added_mb = 0;
};

// Peak memory per phase, owned by the RunContext (ctx.memory()) and recorded by the driver into
// every record's peak_mem_mb. The definition:
//   - a phase starts by returning the heap's free pages to the OS (release_free_memory) and
//     resetting the host high-water mark (and the CUDA allocator's peak on a CUDA device); its peak
//     is the high-water mark reached before it ends;
//   - phases nest: an outer phase's peak includes its inner phases' (the marks an inner phase
//     resets are first folded into every open phase);
//   - a phase that runs several times in a row keeps its highest peak;
//   - the row itself is the outermost phase, opened by the driver (begin_row).
// Nothing else may reset the marks (reset_host_peak, reset_cuda_peak) while a row runs.
//
// Keys of peaks_mb(): "host" (the row), "<phase>.host" per phase, and on a CUDA device "cuda",
// "<phase>.cuda".
class MemoryMeter {
 public:
  explicit MemoryMeter(c10::Device device = c10::Device(c10::kCPU));
  MemoryMeter(const MemoryMeter&) = delete;
  MemoryMeter& operator=(const MemoryMeter&) = delete;

  // Forgets earlier phases and starts measuring a row.
  void begin_row();

  class Phase {
   public:
    Phase(MemoryMeter& meter, std::string name);
    ~Phase();
    Phase(const Phase&) = delete;
    Phase& operator=(const Phase&) = delete;

   private:
    MemoryMeter& meter_;
    size_t depth_;
  };
  // Measures a phase until the returned scope ends:  auto m = ctx.memory().phase("compress");
  [[nodiscard]] Phase phase(std::string name) { return Phase(*this, std::move(name)); }

  // The row's peaks so far and each finished phase's (see the keys above), in MiB.
  std::map<std::string, double> peaks_mb();
  // A finished phase; nullptr when it has not run in this row.
  const PhaseMemory* find(const std::string& phase) const;

 private:
  struct Open {
    std::string name;
    PhaseMemory mem;
  };
  void open(std::string name);
  void close(size_t depth);
  void fold();  // raises every open phase's peak to the current high-water marks
  bool cuda() const { return device_.is_cuda(); }

  c10::Device device_;
  std::vector<Open> stack_;  // stack_[0]: the row (after begin_row)
  std::map<std::string, PhaseMemory> phases_;
};

}  // namespace repro
