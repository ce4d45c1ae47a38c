#include "core/slurm.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "core/strings.h"

namespace repro {

namespace {

// Options the launcher writes itself; given again they would change what the scripts mean.
const std::vector<std::string> kReservedOptions = {"-a",      "--array",    "-o",           "--output",  "-e",
                                                   "--error", "-d",         "--dependency", "-D",        "--chdir",
                                                   "--wrap",  "--parsable", "-J",           "--job-name"};

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

}  // namespace

SlurmResources SlurmResources::merged(const SlurmResources& over) const {
  SlurmResources r = *this;
  if (over.cpus) r.cpus = over.cpus;
  if (over.mem) r.mem = over.mem;
  if (over.time) r.time = over.time;
  if (over.partition) r.partition = over.partition;
  return r;
}

// sbatch(1), --time: "minutes", "minutes:seconds", "hours:minutes:seconds", "days-hours",
// "days-hours:minutes" and "days-hours:minutes:seconds".
std::string slurm_time_problem(const std::string& time) {
  static const std::regex kTime(
      R"((\d+)|(\d+):(\d+)|(\d+):(\d+):(\d+)|(\d+)-(\d+)|(\d+)-(\d+):(\d+)|(\d+)-(\d+):(\d+):(\d+))");
  // 0, INFINITE and UNLIMITED ask for no limit (the partition's maximum still applies).
  if (time == "INFINITE" || time == "UNLIMITED" || std::regex_match(time, kTime)) return "";
  return fmt::format(
      "'{}' is not a SLURM time limit (minutes, M:S, H:M:S, D-H, D-H:M, D-H:M:S or UNLIMITED, e.g. 1:30:00)", time);
}

// sbatch(1), --mem: a number of megabytes, or with a unit suffix K, M, G or T.
std::string slurm_mem_problem(const std::string& mem) {
  static const std::regex kMem(R"((\d+)([KMGTkmgt])?)");
  std::smatch m;
  if (!std::regex_match(mem, m, kMem))
    return fmt::format("'{}' is not a SLURM memory size (megabytes, or a number with K, M, G or T: 16G)", mem);
  if (m[1].str().find_first_not_of('0') == std::string::npos) return fmt::format("'{}' asks for no memory", mem);
  return "";
}

std::string slurm_partition_problem(const std::string& partition) {
  if (partition.empty()) return "an empty partition name";
  for (unsigned char c : partition)
    if (std::isspace(c) || !std::isprint(c)) return fmt::format("'{}' is not a partition name (no spaces)", partition);
  return "";
}

SlurmResources parse_slurm_resources(const ConfigView& view) {
  view.check_keys({"cpus", "mem", "time", "partition"});
  SlurmResources r;
  if (view.has("cpus")) {
    r.cpus = view.get_int("cpus");
    if (*r.cpus < 1) view.fail("cpus", fmt::format("expected at least 1 CPU per task, got {}", *r.cpus));
  }
  auto text = [&](const char* key, std::string (*problem)(const std::string&)) -> std::optional<std::string> {
    if (!view.has(key)) return std::nullopt;
    std::string v = view.get_string(key);
    if (auto p = problem(v); !p.empty()) view.fail(key, p);
    return v;
  };
  r.mem = text("mem", slurm_mem_problem);
  r.time = text("time", slurm_time_problem);
  r.partition = text("partition", slurm_partition_problem);
  return r;
}

void validate_slurm_resources(const SlurmResources& r, const std::string& flag_prefix) {
  auto check = [&](const char* flag, const std::optional<std::string>& v, std::string (*problem)(const std::string&)) {
    if (!v) return;
    if (auto p = problem(*v); !p.empty()) throw ConfigError(fmt::format("{}{}: {}", flag_prefix, flag, p));
  };
  if (r.cpus && *r.cpus < 1)
    throw ConfigError(fmt::format("{}cpus: expected at least 1 CPU per task, got {}", flag_prefix, *r.cpus));
  check("mem", r.mem, slurm_mem_problem);
  check("time", r.time, slurm_time_problem);
  check("partition", r.partition, slurm_partition_problem);
}

std::vector<std::string> parse_sbatch_extra(const std::string& extra) {
  std::vector<std::string> lines;
  std::istringstream in(extra);
  std::string word;
  while (in >> word) {
    if (word[0] != '-') {
      if (lines.empty())
        throw ConfigError(
            fmt::format("--slurm-extra '{}': expected sbatch options (--account=lab ...), got '{}'", extra, word));
      lines.back() += " " + word;  // the value of the option before it: "--qos high"
      continue;
    }
    const std::string name = word.substr(0, word.find('='));
    // A short option may carry its value attached ("-ofile"): compare its first two characters.
    const std::string short_name = word.size() > 2 && word[1] != '-' ? word.substr(0, 2) : name;
    for (const auto& reserved : kReservedOptions)
      if (name == reserved || short_name == reserved)
        throw ConfigError(fmt::format("--slurm-extra: '{}' is set by the launcher itself (reserved: {})", reserved,
                                      join(kReservedOptions, " ")));
    lines.push_back(word);
  }
  return lines;
}

std::string shell_quote(const std::string& word) {
  const bool plain = !word.empty() && std::all_of(word.begin(), word.end(), [](unsigned char c) {
    return std::isalnum(c) || std::strchr("_-./:=@%+,", c) != nullptr;
  });
  if (plain) return word;
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string slurm_array_spec(const std::vector<size_t>& rows) {
  std::vector<std::string> parts;
  for (size_t r : rows) parts.push_back(std::to_string(r));
  return join(parts, ",");
}

namespace {

// The header both scripts share: shell, comment, job name, output, working folder, resources, extras.
std::string script_header(const SlurmJob& job, const std::string& name, const std::string& output,
                          const SlurmResources& resources) {
  std::string s = "#!/bin/bash\n";
  if (!job.comment.empty()) s += "# " + job.comment + "\n";
  // #SBATCH lines are not shell code: sbatch reads them before the shell runs, so a value holding
  // spaces is quoted for sbatch's own word splitting, which honours double quotes.
  auto sbatch_value = [](const std::string& v) {
    return v.find_first_of(" \t") == std::string::npos ? v : "\"" + v + "\"";
  };
  s += fmt::format("#SBATCH --job-name={}\n", name);
  s += fmt::format("#SBATCH --output={}\n", sbatch_value(output));
  s += fmt::format("#SBATCH --chdir={}\n", sbatch_value(job.work_dir.string()));
  if (resources.cpus) s += fmt::format("#SBATCH --cpus-per-task={}\n", *resources.cpus);
  if (resources.mem) s += fmt::format("#SBATCH --mem={}\n", *resources.mem);
  if (resources.time) s += fmt::format("#SBATCH --time={}\n", *resources.time);
  if (resources.partition) s += fmt::format("#SBATCH --partition={}\n", *resources.partition);
  for (const auto& e : job.extra) s += "#SBATCH " + e + "\n";
  return s;
}

std::string command_line(const SlurmJob& job, const std::string& subcommand, const std::string& index_word) {
  std::string s = "exec " + shell_quote(job.repro.string()) + " " + subcommand + " " + shell_quote(job.table);
  if (!index_word.empty()) s += " " + index_word;
  for (const auto& o : job.options) s += " " + shell_quote(o);
  return s + "\n";
}

}  // namespace

std::string slurm_array_script(const SlurmJob& job) {
  REPRO_ASSERT(!job.rows.empty(), "a SLURM array needs at least one row");
  REPRO_ASSERT(std::is_sorted(job.rows.begin(), job.rows.end()), "rows must be ascending");
  // %a: the array task id, which is the row index.
  std::string s = script_header(job, job.job_name, (job.log_dir / "row-%a.out").string(), job.resources);
  s += fmt::format("#SBATCH --array={}\n", slurm_array_spec(job.rows));
  std::vector<std::string> ids;
  for (size_t r : job.rows) ids.push_back(std::to_string(r));
  // Run by hand or resubmitted with another --array, a task must not run a row it was not meant to.
  s += "set -u\n";
  s += fmt::format("case \"${{SLURM_ARRAY_TASK_ID:-}}\" in\n  {}) ;;\n", join(ids, "|"));
  s += fmt::format(
      "  *) echo \"repro: array task '${{SLURM_ARRAY_TASK_ID:-}}' is not one of the rows {} of this script\" >&2; "
      "exit 2 ;;\nesac\n",
      slurm_array_spec(job.rows));
  s += command_line(job, "run-row", "\"$SLURM_ARRAY_TASK_ID\"");
  return s;
}

std::string slurm_report_script(const SlurmJob& job, const std::string& array_job_id) {
  REPRO_ASSERT(all_digits(array_job_id), "a SLURM job id is a number");
  // The report reads records only: one CPU, the partition's default time and memory.
  SlurmResources report;
  report.cpus = 1;
  report.partition = job.resources.partition;
  std::string s = script_header(job, job.job_name + "-report", (job.log_dir / "report.out").string(), report);
  s += fmt::format("#SBATCH --dependency=afterany:{}\n", array_job_id);
  s += command_line(job, "report", "");
  return s;
}

std::string parse_sbatch_job_id(const std::string& out) {
  std::string id = trim(out);
  id = id.substr(0, id.find(';'));  // "<id>;<cluster>" on a federation
  if (!all_digits(id)) throw IoError(fmt::format("sbatch --parsable printed '{}', not a job id", trim(out)));
  return id;
}

std::map<std::string, std::string> parse_squeue(const std::string& out) {
  std::map<std::string, std::string> jobs;
  for (const auto& line : split(out, '\n')) {
    auto t = trim(line);
    auto bar = t.find('|');
    if (bar == std::string::npos || bar == 0 || bar + 1 == t.size()) continue;
    jobs[t.substr(0, bar)] = t.substr(bar + 1);
  }
  return jobs;
}

void write_slurm_submission(const std::filesystem::path& path, const SlurmSubmission& s) {
  nlohmann::json j = {
      {"job_id", s.job_id}, {"report_job_id", s.report_job_id}, {"rows", s.rows}, {"submitted_at", s.submitted_at}};
  write_file_atomic(path, j.dump(2) + "\n");
}

std::vector<SlurmSubmission> read_slurm_submissions(const std::filesystem::path& slurm_dir) {
  std::vector<SlurmSubmission> out;
  std::error_code ec;
  if (!std::filesystem::is_directory(slurm_dir, ec)) return out;
  for (const auto& e : std::filesystem::directory_iterator(slurm_dir, ec)) {
    const auto file = e.path() / "submission.json";
    std::ifstream in(file);
    if (!in) continue;
    try {
      auto j = nlohmann::json::parse(in);
      SlurmSubmission s;
      s.job_id = j.at("job_id").get<std::string>();
      s.report_job_id = j.value("report_job_id", "");
      s.rows = j.at("rows").get<std::vector<size_t>>();
      s.submitted_at = j.value("submitted_at", "");
      s.dir = e.path();
      out.push_back(std::move(s));
    } catch (const nlohmann::json::exception&) {
      continue;  // a foreign or damaged file: not a submission
    }
  }
  std::sort(out.begin(), out.end(), [](const SlurmSubmission& a, const SlurmSubmission& b) {
    return a.submitted_at != b.submitted_at ? a.submitted_at < b.submitted_at : a.dir < b.dir;
  });
  return out;
}

}  // namespace repro
