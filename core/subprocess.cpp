#include "core/subprocess.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "core/error.h"
#include "core/strings.h"

namespace repro {

namespace {

// A pipe whose ends are closed on exec and when the object goes away.
struct Pipe {
  int fd[2] = {-1, -1};
  Pipe() {
    if (::pipe2(fd, O_CLOEXEC) != 0) throw IoError(fmt::format("cannot create a pipe: {}", std::strerror(errno)));
  }
  ~Pipe() {
    close_end(0);
    close_end(1);
  }
  void close_end(int i) {
    if (fd[i] >= 0) ::close(fd[i]);
    fd[i] = -1;
  }
};

// Writes all of `n` bytes or gives up (the child reports a failed exec this way).
void write_all(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    n -= static_cast<size_t>(w);
  }
}

}  // namespace

std::optional<std::filesystem::path> find_on_path(const std::string& name) {
  if (name.empty()) return std::nullopt;
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) == 0) return std::filesystem::path(name);
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  for (const auto& dir : split(path ? path : "/usr/local/bin:/usr/bin:/bin", ':')) {
    std::filesystem::path candidate = std::filesystem::path(dir.empty() ? "." : dir) / name;
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

SubprocessResult run_subprocess(const std::vector<std::string>& argv) {
  REPRO_ASSERT(!argv.empty(), "run_subprocess needs a program");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  Pipe out, err, status;  // status: the child's errno when exec fails (closed by a successful exec)
  const pid_t pid = ::fork();
  if (pid < 0) throw IoError(fmt::format("cannot start '{}': fork failed: {}", argv[0], std::strerror(errno)));
  if (pid == 0) {
    // The child: only async-signal-safe calls until exec.
    int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    ::dup2(out.fd[1], 1);
    ::dup2(err.fd[1], 2);
    ::execvp(args[0], args.data());
    int e = errno;
    write_all(status.fd[1], &e, sizeof e);
    ::_exit(127);
  }
  out.close_end(1);
  err.close_end(1);
  status.close_end(1);

  SubprocessResult r;
  // Read both streams until both are closed; reading one to its end first could deadlock a child
  // that fills the other's pipe.
  pollfd fds[2] = {{out.fd[0], POLLIN, 0}, {err.fd[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_streams = 2;
  char buf[4096];
  while (open_streams > 0) {
    int n = ::poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        fds[i].fd = -1;  // poll ignores negative descriptors
        --open_streams;
      } else {
        sinks[i]->append(buf, static_cast<size_t>(got));
      }
    }
  }

  int exec_errno = 0;
  ssize_t got;
  do {
    got = ::read(status.fd[0], &exec_errno, sizeof exec_errno);
  } while (got < 0 && errno == EINTR);

  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0) {
    if (errno != EINTR) throw IoError(fmt::format("waiting for '{}' failed: {}", argv[0], std::strerror(errno)));
  }
  if (got == static_cast<ssize_t>(sizeof exec_errno))
    throw IoError(fmt::format("cannot run '{}': {}", argv[0], std::strerror(exec_errno)));
  if (WIFEXITED(wstatus)) {
    r.exit_code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    r.signal = WTERMSIG(wstatus);
  }
  return r;
}

}  // namespace repro
