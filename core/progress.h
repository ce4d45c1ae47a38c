#pragma once
// Progress reporting for long loops. On a terminal: one bar with rate and ETA, redrawn in place.
// Elsewhere (CI logs, files): a plain line at most every few seconds and at completion.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace repro {

class Progress {
 public:
  // `total` = number of steps (0 = unknown). `out` = stderr by default; `tty` decides the style.
  Progress(std::string label, int64_t total, bool enabled = true);
  Progress(std::string label, int64_t total, std::FILE* out, bool tty, double interval_s);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void advance(int64_t steps = 1);
  void set(int64_t done);
  // A short status shown after the counts ("loss 3.21").
  void note(std::string text);
  void finish();

  int64_t done() const { return done_; }

  // The line that would be printed now (exposed for tests).
  std::string render() const;

 private:
  void maybe_print(bool force);

  std::string label_;
  int64_t total_, done_ = 0;
  std::string note_;
  std::FILE* out_;
  bool tty_, enabled_, finished_ = false;
  double interval_s_;
  std::chrono::steady_clock::time_point start_, last_print_;
};

}  // namespace repro
