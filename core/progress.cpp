#include "core/progress.h"

#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

namespace repro {

namespace {
std::string fmt_duration(double s) {
  if (s < 0 || s > 1e7) return "?";
  int64_t t = static_cast<int64_t>(s + 0.5);
  if (t >= 3600) return fmt::format("{}h{:02d}m", t / 3600, (t / 60) % 60);
  if (t >= 60) return fmt::format("{}m{:02d}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}
}  // namespace

Progress::Progress(std::string label, int64_t total, bool enabled)
    : Progress(std::move(label), total, stderr, isatty(fileno(stderr)) != 0, 10.0) {
  enabled_ = enabled;
}

Progress::Progress(std::string label, int64_t total, std::FILE* out, bool tty, double interval_s)
    : label_(std::move(label)), total_(total), out_(out), tty_(tty), enabled_(true),
      interval_s_(tty ? 0.1 : interval_s), start_(std::chrono::steady_clock::now()), last_print_(start_) {}

Progress::~Progress() { finish(); }

void Progress::advance(int64_t steps) {
  done_ += steps;
  maybe_print(false);
}

void Progress::set(int64_t done) {
  done_ = done;
  maybe_print(false);
}

void Progress::note(std::string text) { note_ = std::move(text); }

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  maybe_print(true);
  if (enabled_ && tty_) std::fputc('\n', out_);
  if (enabled_) std::fflush(out_);
}

std::string Progress::render() const {
  double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string counts = total_ > 0 ? fmt::format("{}/{}", done_, total_) : fmt::format("{}", done_);
  std::string eta;
  if (total_ > 0 && done_ > 0 && done_ < total_) eta = " eta " + fmt_duration(el / done_ * (total_ - done_));
  std::string bar;
  if (tty_ && total_ > 0) {
    const int width = 24;
    int filled = static_cast<int>(width * std::min<double>(1.0, static_cast<double>(done_) / total_));
    bar = "[" + std::string(filled, '#') + std::string(width - filled, '.') + "] ";
  }
  std::string pct = total_ > 0 ? fmt::format(" ({:.0f}%)", 100.0 * done_ / total_) : "";
  return fmt::format("{}: {}{}{} elapsed {}{}{}", label_, bar, counts, pct, fmt_duration(el), eta,
                     note_.empty() ? "" : "  " + note_);
}

void Progress::maybe_print(bool force) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_print_).count();
  if (!force && since < interval_s_) return;
  last_print_ = now;
  if (tty_) {
    std::fprintf(out_, "\r\033[K%s", render().c_str());
  } else {
    std::fprintf(out_, "%s\n", render().c_str());
  }
  std::fflush(out_);
}

}  // namespace repro
