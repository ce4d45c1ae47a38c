// repro bench <name> [benchmark options]: runs one of the Google Benchmark programs under bench/
// (built next to this binary as <build>/bench/bench_<name>), passing the remaining arguments on.
//   repro bench solvers --benchmark_filter='^gptq/4096x4096'
//   repro bench model_throughput --benchmark_format=json
// With no name it lists the programs that are built.

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "apps/repro/cli.h"
#include "core/strings.h"

namespace repro::cli {

namespace fs = std::filesystem;

namespace {

// <build>/bench, found from this executable's own path (<build>/apps/repro/repro).
fs::path bench_dir() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw UsageError("cannot locate the repro binary (/proc/self/exe): " + ec.message());
  return self.parent_path().parent_path().parent_path() / "bench";
}

std::vector<std::string> built_benchmarks(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string f = e.path().filename().string();
    if (f.rfind("bench_", 0) == 0 && e.is_regular_file() && access(e.path().c_str(), X_OK) == 0)
      out.push_back(f.substr(6));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

int cmd_bench(int argc, char** argv) {
  const fs::path dir = bench_dir();
  const std::vector<std::string> names = built_benchmarks(dir);
  const std::string first = argc > 1 ? argv[1] : "";
  if (first.empty() || first == "--help" || first == "-h") {
    std::cout << "usage: repro bench <name> [Google Benchmark options, e.g. --benchmark_filter=REGEX]\n\n"
              << "benchmarks built in " << dir.string() << ":\n";
    for (const auto& n : names) std::cout << "  " << n << "\n";
    if (names.empty()) std::cout << "  (none: configure with -DREPRO_BUILD_BENCHMARKS=ON and build)\n";
    return first.empty() ? 2 : 0;
  }
  const fs::path exe = dir / ("bench_" + first);
  if (!fs::exists(exe))
    throw UsageError("no benchmark '" + first + "' in " + dir.string() + did_you_mean(first, names) +
                     (names.empty() ? " (none built: configure with -DREPRO_BUILD_BENCHMARKS=ON)" : ""));
  std::vector<std::string> args = {exe.string()};
  for (int i = 2; i < argc; ++i) args.emplace_back(argv[i]);
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  std::cout.flush();
  execv(exe.c_str(), cargs.data());
  throw UsageError("cannot run " + exe.string() + ": " + std::strerror(errno));
}

}  // namespace repro::cli
