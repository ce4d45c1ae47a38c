#include "report/gnuplot.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"
#include "core/strings.h"
#include "report/text_escape.h"

namespace fs = std::filesystem;

namespace repro::report {

namespace {

constexpr size_t kKeptOutput = 4000;  // characters of gnuplot's output kept for the message

bool is_executable(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

}  // namespace

std::optional<fs::path> find_gnuplot() {
  if (const char* env = std::getenv("REPRO_GNUPLOT"); env && *env) {
    if (is_executable(env)) return fs::path(env);
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  if (!path) return std::nullopt;
  for (const auto& dir : split(path, ':')) {
    if (dir.empty()) continue;
    fs::path candidate = fs::path(dir) / "gnuplot";
    if (is_executable(candidate)) return candidate;
  }
  return std::nullopt;
}

void run_gnuplot(const fs::path& script, const fs::path& gnuplot) {
  fs::path exe = gnuplot;
  if (exe.empty()) {
    auto found = find_gnuplot();
    if (!found)
      throw NotSupported(fmt::format("cannot render plot script {}: gnuplot not found (install gnuplot, or set "
                                     "REPRO_GNUPLOT to its path; or skip plots)",
                                     script.string()));
    exe = *found;
  }
  if (!is_executable(exe))
    throw NotSupported(fmt::format("cannot render plot script {}: gnuplot '{}' is not an executable file",
                                   script.string(), exe.string()));

  fs::path dir = script.parent_path().empty() ? fs::path(".") : script.parent_path();
  // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
  std::string exe_s = exe.string(), dir_s = dir.string(), name_s = script.filename().string();
  std::vector<char*> argv = {exe_s.data(), name_s.data(), nullptr};
  int out_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0)
    throw IoError(fmt::format("cannot run gnuplot on {}: pipe failed ({})", script.string(), std::strerror(errno)));
  int dev_null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);

  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    if (dev_null >= 0) ::close(dev_null);
    throw IoError(fmt::format("cannot run gnuplot on {}: fork failed ({})", script.string(), std::strerror(err)));
  }
  if (pid == 0) {
    if (dev_null >= 0) ::dup2(dev_null, 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(out_pipe[1], 2);
    if (::chdir(dir_s.c_str()) != 0) ::_exit(126);
    ::execv(exe_s.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  if (dev_null >= 0) ::close(dev_null);

  std::string output;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(out_pipe[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output.append(buf, static_cast<size_t>(n));
    if (output.size() > 2 * kKeptOutput) output.erase(0, output.size() - kKeptOutput);
  }
  ::close(out_pipe[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;

  if (output.size() > kKeptOutput) output.erase(0, output.size() - kKeptOutput);
  std::string how = WIFEXITED(status) ? fmt::format("exit status {}", WEXITSTATUS(status))
                                      : fmt::format("signal {}", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 126)
    how = fmt::format("cannot enter folder {}", dir.string());
  else if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    how = fmt::format("cannot execute {}", exe.string());
  throw IoError(fmt::format("gnuplot failed on {} ({}): {}", script.string(), how,
                            output.empty() ? std::string("no output") : one_line(output)));
}

}  // namespace repro::report
