#pragma once
// Shared pieces of the `repro` command line: project paths, common options, table lookup.

#include <filesystem>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "core/driver.h"
#include "core/paths.h"
#include "core/run_context.h"
#include "core/table_spec.h"

namespace repro::cli {

namespace po = boost::program_options;

// Bad command-line usage: printed as one line, exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using repro::project_root;

// "<paper>/<table>" -> <root>/paper_configs/<paper>/<table>.toml; a path to a .toml is used as is.
// Missing -> ConfigError listing the known tables with a did-you-mean.
std::filesystem::path resolve_table(const std::string& name, std::string* id_out);
// Every "<paper>/<table>" under paper_configs/.
std::vector<std::string> list_tables();

// Options shared by every command that runs rows.
struct CommonOptions {
  std::string device = "cpu", dtype = "float32", scale = "embedded", log_level = "info";
  std::string results_dir, data_dir, model, cache_dir;
  uint64_t seed = 0;
  int threads = 0;
  bool no_progress = false;
};
void add_common_options(po::options_description& desc, CommonOptions& o);
RunOptions make_run_options(const CommonOptions& o);
// Sets the process-wide settings from --threads and --log-level (core/process.h). Every command that
// takes the common options calls it once, right after parsing: RunContext changes no process state.
void configure_process(const CommonOptions& o);
LoadOptions make_load_options(const CommonOptions& o);
std::filesystem::path results_root(const CommonOptions& o);
// The common options as they would be given again to another `repro` process (a cluster job):
// every path absolute, --no-progress added (a job's output is a log file). `threads` replaces
// --threads when --threads was not given (0: leave it out).
std::vector<std::string> forwarded_options(const CommonOptions& o, int threads = 0);
// The "cache: ..." line of reproduce and status (nothing when the cache is empty).
void print_cache_summary(const CommonOptions& o);

// --launcher slurm (cmd_slurm.cpp): the sbatch options of `repro reproduce`.
struct SlurmFlags {
  std::string partition, time, mem, extra;
  int64_t cpus = 0;  // 0: not given
};
void add_slurm_options(po::options_description& desc, SlurmFlags& f);
// Submits the planned rows that are missing or failed as a job array, then a report job after it
// (core/slurm.h). `table_arg` is what the jobs pass to run-row and report; `force` is passed on.
// `dry_run`: prints the array script and submits nothing. Returns the exit code.
int launch_slurm(const TableSpec& table, const std::string& table_arg, const std::vector<PlannedRow>& plan,
                 const ResultStore& store, const CommonOptions& common, const SlurmFlags& flags, bool force,
                 bool dry_run);

// Parses argv for one subcommand. Returns false when --help was printed.
bool parse(int argc, char** argv, po::options_description& desc, po::positional_options_description& pos,
           po::variables_map& vm, const std::string& usage);

// Subcommands; each returns the process exit code.
int cmd_reproduce(int argc, char** argv);
int cmd_run_row(int argc, char** argv);
int cmd_list(int argc, char** argv);
int cmd_report(int argc, char** argv);
int cmd_plot(int argc, char** argv);
int cmd_train_zoo(int argc, char** argv);
int cmd_bench(int argc, char** argv);
int cmd_cache(int argc, char** argv);
int cmd_verify(int argc, char** argv);
int cmd_make_checkpoint(int argc, char** argv);
int cmd_status(int argc, char** argv);

int cmd_compress(int argc, char** argv);
int cmd_eval(int argc, char** argv);

}  // namespace repro::cli

namespace repro {
struct VisionZooRecipe;
}

namespace repro::cli {

// `repro train-zoo` for an image recipe (cmd_train_zoo_vision.cpp): pretrains, writes `out`.
int train_vision_zoo(const VisionZooRecipe& recipe, const std::filesystem::path& out, const CommonOptions& common);

}  // namespace repro::cli
