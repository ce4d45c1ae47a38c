// repro: reproduce paper tables, list plugins, render reports and plots.
//
// Exit codes: 0 success; 1 internal error (a bug: please report it); 2 bad input (config, files,
// command line); 3 the table was produced but some rows failed (see the report).

#include <cstring>
#include <iostream>
#include <map>

#include <c10/util/Exception.h>

#include "apps/repro/cli.h"
#include "core/allocator.h"
#include "core/error.h"
#include "core/strings.h"

namespace {

using Command = int (*)(int, char**);

struct Entry {
  Command fn;
  const char* help;
};

const std::map<std::string, Entry>& commands() {
  static const std::map<std::string, Entry> c = {
      {"reproduce", {repro::cli::cmd_reproduce, "run a paper table's rows (cached rows are skipped) and write its report"}},
      {"run-row", {repro::cli::cmd_run_row, "run one row of a table (for cluster job arrays)"}},
      {"report", {repro::cli::cmd_report, "write a table's report (Markdown, LaTeX, CSV, plots) from its records"}},
      {"plot", {repro::cli::cmd_plot, "plot any two metrics over a table's records, with the Pareto front"}},
      {"list", {repro::cli::cmd_list, "list methods, suites or tables"}},
      {"bench", {repro::cli::cmd_bench, "run a benchmark program (solvers, model_throughput); Google Benchmark options pass through"}},
      {"cache", {repro::cli::cmd_cache, "list the disk caches (Hessians, tokens, ...) or prune them (--max-size, --older-than)"}},
      {"status", {repro::cli::cmd_status, "per row of a table: done, failed, running, queued (SLURM) or missing"}},
      {"verify", {repro::cli::cmd_verify, "check a table's records: readable, under their keys, no row computed twice"}},
      {"make-checkpoint", {repro::cli::cmd_make_checkpoint, "write a random-weight checkpoint in a published model's shapes (llama3-8b, ...), sharded as HF does"}},
      {"compress", {repro::cli::cmd_compress, "compress a model with a pipeline spec and write it (hf, compressed-tensors or compact) with its recipe.toml"}},
      {"eval", {repro::cli::cmd_eval, "test perplexity of a model folder (hf, or compact as repro compress writes)"}},
      {"train-zoo", {repro::cli::cmd_train_zoo, "train a zoo model: micro, tiny (embedded corpus; resumable) or cnn_fmnist (Fashion-MNIST)"}},
  };
  return c;
}

void usage(std::ostream& out) {
  out << "usage: repro <command> [options]   (repro <command> --help for its options)\n\ncommands:\n";
  for (const auto& [name, e] : commands()) out << "  " << name << std::string(name.size() < 16 ? 16 - name.size() : 1, ' ') << e.help << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  repro::keep_freed_memory();
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    usage(std::cout);
    return argc < 2 ? 2 : 0;
  }
  std::string name = argv[1];
  auto it = commands().find(name);
  if (it == commands().end()) {
    std::vector<std::string> names;
    for (const auto& [n, e] : commands()) names.push_back(n);
    std::cerr << "repro: unknown command '" << name << "'" << repro::did_you_mean(name, names) << " (see repro --help)\n";
    return 2;
  }
  try {
    return it->second.fn(argc - 1, argv + 1);
  } catch (const repro::cli::UsageError& e) {
    std::cerr << "repro " << name << ": " << e.what() << "\n";
    return 2;
  } catch (const repro::Error& e) {
    std::cerr << "repro: " << (e.user_error() ? "" : "internal error: ") << e.what() << "\n";
    if (!e.hint().empty()) std::cerr << "repro: hint: " << e.hint() << "\n";
    return e.user_error() ? 2 : 1;
  } catch (const std::exception& e) {
    if (auto oom = repro::device_out_of_memory(e)) {
      std::cerr << "repro: " << oom->kind() << ": " << oom->what() << "\nrepro: hint: " << oom->hint() << "\n";
      return 2;
    }
    if (const auto* t = dynamic_cast<const c10::Error*>(&e))
      std::cerr << "repro: internal error (libtorch): " << t->what_without_backtrace() << "\n";
    else
      std::cerr << "repro: internal error: " << e.what() << "\n";
    return 1;
  }
}
