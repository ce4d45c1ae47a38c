#pragma once
// Wall-clock timing of named phases. On a CUDA device, the clock is read after synchronizing the
// device, so asynchronous kernels are counted where they ran.

#include <chrono>
#include <functional>
#include <map>
#include <string>

namespace repro {

class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  void reset() { start_ = std::chrono::steady_clock::now(); }

 private:
  std::chrono::steady_clock::time_point start_;
};

// Accumulates seconds per phase ("calibrate", "compress", "eval").
class PhaseTimer {
 public:
  explicit PhaseTimer(std::function<void()> sync = {}) : sync_(std::move(sync)) {}

  class Scope {
   public:
    Scope(PhaseTimer& t, std::string phase) : t_(t), phase_(std::move(phase)) {
      if (t_.sync_) t_.sync_();
    }
    ~Scope() {
      if (t_.sync_) t_.sync_();
      t_.seconds_[phase_] += w_.seconds();
    }

   private:
    PhaseTimer& t_;
    std::string phase_;
    Stopwatch w_;
  };

  Scope scope(std::string phase) { return Scope(*this, std::move(phase)); }
  void add(const std::string& phase, double s) { seconds_[phase] += s; }
  const std::map<std::string, double>& seconds() const { return seconds_; }

 private:
  std::function<void()> sync_;
  std::map<std::string, double> seconds_;
};

}  // namespace repro
