#pragma once
// Running another program (sbatch, squeue) and reading what it printed: fork + execvp with an
// argument vector, never a shell command line, so no argument is ever re-split or expanded.
//
// Free of libtorch (repro_core_io).

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace repro {

struct SubprocessResult {
  int exit_code = -1;    // the program's exit status; -1 when a signal ended it
  int signal = 0;        // the signal that ended it, else 0
  std::string out, err;  // everything it wrote to stdout and stderr

  bool ok() const { return exit_code == 0; }
};

// Runs argv[0] (looked up on PATH unless it holds a '/') with the arguments argv[1..], stdin from
// /dev/null, stdout and stderr captured, and waits for it to end. A program that cannot be started
// (not found, not executable) -> IoError naming it; its exit status is a return value, not an error.
// argv must not be empty.
SubprocessResult run_subprocess(const std::vector<std::string>& argv);

// The full path of the executable `name` on PATH (or `name` itself when it holds a '/' and is
// executable), or nullopt.
std::optional<std::filesystem::path> find_on_path(const std::string& name);

}  // namespace repro
