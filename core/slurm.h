#pragma once
// SLURM job arrays for a table's rows (`repro reproduce --launcher slurm`): the sbatch scripts, the
// resource requests from a table's [slurm] section and the command line, the record of a
// submission, and the parsing of sbatch's and squeue's output. Submitting and querying (running
// sbatch and squeue) is the caller's; this file only writes and reads text.
//
// One submission is two jobs: an array with one task per row to compute (the task id is the row's
// index in the expanded table, each task runs `repro run-row <table> <index>`), and a report job
// that runs `repro report <table>` once every task has ended (--dependency=afterany:<array id>:
// also after failed tasks, whose error records the report shows). sbatch's options and the
// SLURM_ARRAY_TASK_ID variable are documented in the sbatch(1) manual page of SLURM 22.05.
//
// Free of libtorch (repro_core_config).

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace repro {

class ConfigView;

// What one array task asks for. Unset: the cluster's default.
struct SlurmResources {
  std::optional<int64_t> cpus;           // --cpus-per-task, >= 1
  std::optional<std::string> mem;        // --mem: "16G", "4000M", "500" (megabytes)
  std::optional<std::string> time;       // --time: "90", "1:30:00", "2-00:00:00"
  std::optional<std::string> partition;  // --partition

  // Each value of `over` where it is set, else this one's (command-line flags over a table's config).
  SlurmResources merged(const SlurmResources& over) const;
  bool operator==(const SlurmResources& o) const {
    return cpus == o.cpus && mem == o.mem && time == o.time && partition == o.partition;
  }
};

// The [slurm] table of a table config: keys cpus (int), mem, time, partition (strings). Unknown
// keys, wrong types and malformed values -> ConfigError naming file:line and key.
SlurmResources parse_slurm_resources(const ConfigView& view);
// Checks values given on the command line (`flag` prefix: "--slurm-"): ConfigError naming the flag.
void validate_slurm_resources(const SlurmResources& r, const std::string& flag_prefix = "--slurm-");
// Why a value is not what sbatch takes, or "" when it is.
std::string slurm_time_problem(const std::string& time);
std::string slurm_mem_problem(const std::string& mem);
std::string slurm_partition_problem(const std::string& partition);

// --slurm-extra "--account=lab --qos high": more sbatch options, one "#SBATCH" line per option
// (an option with its separate value stays on one line): {"--account=lab", "--qos high"}. Text
// that does not start with an option, or an option the launcher sets itself (--array, --output,
// --dependency, ...) -> ConfigError.
std::vector<std::string> parse_sbatch_extra(const std::string& extra);

// A word for a POSIX shell: unchanged when it holds only characters no shell treats specially,
// else in single quotes (a ' inside becomes '\'').
std::string shell_quote(const std::string& word);
// "0,2,5": the --array value for these row indices (as given, ascending, no duplicates).
std::string slurm_array_spec(const std::vector<size_t>& rows);

struct SlurmJob {
  std::string table;                 // the table argument of run-row and report
  std::string job_name;              // "repro-examples_layer_error" (slug of the table id)
  std::filesystem::path repro;       // the repro executable, absolute
  std::vector<std::string> options;  // options after the table, for run-row and report alike
  std::vector<size_t> rows;          // row indices to run: the array task ids, ascending
  SlurmResources resources;
  std::vector<std::string> extra;  // parse_sbatch_extra's lines, on both jobs
  std::filesystem::path work_dir;  // --chdir of both jobs (the project root)
  std::filesystem::path log_dir;   // each task's output: <log_dir>/row-<index>.out
  std::string comment;             // one line saying who wrote the script and when
};

// The array job's script: "#SBATCH --array=<rows>", the resource lines, and per task
//   exec <repro> run-row <table> "$SLURM_ARRAY_TASK_ID" <options...>
// after a check that the task id is one of the rows the script was written for.
std::string slurm_array_script(const SlurmJob& job);
// The report job's script: "#SBATCH --dependency=afterany:<array_job_id>", then
//   exec <repro> report <table> <options...>
std::string slurm_report_script(const SlurmJob& job, const std::string& array_job_id);

// The job id in `sbatch --parsable`'s output ("1234" or "1234;cluster"); malformed -> IoError
// quoting it.
std::string parse_sbatch_job_id(const std::string& out);

// `squeue --noheader --array --format=%i|%T` output -> {"1234_5": "PENDING", "1235": "RUNNING"}.
// Lines that do not parse are skipped.
std::map<std::string, std::string> parse_squeue(const std::string& out);

// The record of one submission, slurm/<stamp>/submission.json beside its scripts.
struct SlurmSubmission {
  std::string job_id, report_job_id;
  std::vector<size_t> rows;
  std::string submitted_at;   // UTC, ISO 8601
  std::filesystem::path dir;  // the folder of the scripts and logs (set when read)
};
void write_slurm_submission(const std::filesystem::path& path, const SlurmSubmission& s);
// Every readable <slurm_dir>/*/submission.json, oldest first; unreadable ones are skipped.
std::vector<SlurmSubmission> read_slurm_submissions(const std::filesystem::path& slurm_dir);

}  // namespace repro
