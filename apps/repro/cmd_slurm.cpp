// repro reproduce --launcher slurm  and  repro status <paper>/<table>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <iostream>
#include <map>
#include <set>

#include <fmt/format.h>

#include "apps/repro/cli.h"
#include "core/atomic_file.h"
#include "core/driver.h"
#include "core/error.h"
#include "core/record.h"
#include "core/row_claim.h"
#include "core/slurm.h"
#include "core/strings.h"
#include "core/subprocess.h"

namespace repro::cli {

namespace fs = std::filesystem;

namespace {

// "20261203T061520Z-4711": a submission's folder name, ordered by time, unique per process.
std::string submission_stamp() {
  std::string t = utc_timestamp();  // 2026-12-03T06:15:20Z
  t.erase(std::remove_if(t.begin(), t.end(), [](char c) { return c == '-' || c == ':'; }), t.end());
  return fmt::format("{}-{}", t, ::getpid());
}

// The last non-empty line of a program's error output: its conclusion ("squeue: fatal: ...").
std::string last_line(const std::string& text) {
  std::string last;
  for (const auto& l : split(text, '\n'))
    if (!trim(l).empty()) last = trim(l);
  return last;
}

// Runs `sbatch --parsable <script>` and returns the job id; a refusal -> IoError with sbatch's words.
std::string submit(const fs::path& sbatch, const fs::path& script) {
  auto r = run_subprocess({sbatch.string(), "--parsable", script.string()});
  if (!r.ok())
    throw IoError(fmt::format("sbatch refused {} (exit {}): {}", script.string(), r.exit_code, last_line(r.err)));
  return parse_sbatch_job_id(r.out);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

void add_slurm_options(po::options_description& desc, SlurmFlags& f) {
  desc.add_options()("slurm-partition", po::value(&f.partition),
                     "--launcher slurm: the partition (default: the table's [slurm] partition, else the cluster's)")(
      "slurm-time", po::value(&f.time), "--launcher slurm: time limit per row, e.g. 2:00:00 (default: [slurm] time)")(
      "slurm-cpus", po::value(&f.cpus), "--launcher slurm: CPUs per row, also its --threads (default: [slurm] cpus)")(
      "slurm-mem", po::value(&f.mem), "--launcher slurm: memory per row, e.g. 16G (default: [slurm] mem)")(
      "slurm-extra", po::value(&f.extra),
      "--launcher slurm: more sbatch options for every job, e.g. \"--account=lab --qos=high\"");
}

int launch_slurm(const TableSpec& table, const std::string& table_arg, const std::vector<PlannedRow>& plan,
                 const ResultStore& store, const CommonOptions& common, const SlurmFlags& flags, bool force,
                 bool dry_run) {
  SlurmResources given;
  if (flags.cpus != 0) given.cpus = flags.cpus;
  if (!flags.mem.empty()) given.mem = flags.mem;
  if (!flags.time.empty()) given.time = flags.time;
  if (!flags.partition.empty()) given.partition = flags.partition;
  validate_slurm_resources(given);

  SlurmJob job;
  job.table = table_arg;
  job.job_name = "repro-" + slug(table.id);
  job.resources = table.slurm.merged(given);
  job.extra = parse_sbatch_extra(flags.extra);
  job.repro = fs::read_symlink("/proc/self/exe");
  job.options = forwarded_options(common, job.resources.cpus ? static_cast<int>(*job.resources.cpus) : 0);
  if (force) job.options.push_back("--force");
  job.work_dir = fs::absolute(project_root()).lexically_normal();

  size_t cached = 0;
  for (const auto& p : plan) {
    switch (p.state) {
      case PlannedRow::State::Cached:
        ++cached;
        break;
      case PlannedRow::State::Missing:
      case PlannedRow::State::Failed:
        job.rows.push_back(p.row->index);
        break;
      case PlannedRow::State::Unavailable:
        std::cout << fmt::format("not submitted: [{}] {}: {}\n", p.row->index, p.row->display, p.reason);
        break;
    }
  }
  std::sort(job.rows.begin(), job.rows.end());
  if (job.rows.empty()) {
    std::cout << fmt::format("{}: nothing to submit ({} of {} rows cached; repro report {} writes the report)\n",
                             table.id, cached, plan.size(), table.id);
    return 0;
  }

  const fs::path dir = store.table_dir(table.id) / "slurm" / submission_stamp();
  job.log_dir = dir;
  job.comment = fmt::format("repro reproduce {} --launcher slurm, {}: one array task per row to compute", table.id,
                            utc_timestamp());
  if (dry_run) {
    job.log_dir = store.table_dir(table.id) / "slurm" / "<submission>";
    std::cout << "\nthe job array that --launcher slurm would submit:\n\n" << slurm_array_script(job);
    return 0;
  }

  const auto sbatch = find_on_path("sbatch");
  if (!sbatch)
    throw NotSupported(
        "--launcher slurm: 'sbatch' is not on PATH; run on a machine with SLURM's client commands (a cluster's login "
        "node; Debian: slurm-client), or use --launcher local");
  fs::create_directories(dir);
  write_file_atomic(dir / "rows.sbatch", slurm_array_script(job));
  SlurmSubmission sub;
  sub.rows = job.rows;
  sub.submitted_at = utc_timestamp();
  try {
    sub.job_id = submit(*sbatch, dir / "rows.sbatch");
  } catch (const Error&) {
    std::error_code ec;
    fs::remove_all(dir, ec);  // nothing was submitted: leave no submission folder behind
    throw;
  }
  // Recorded before the report job is submitted: `repro status` knows the rows' job even if that fails.
  write_slurm_submission(dir / "submission.json", sub);
  std::cout << fmt::format("submitted job {}: {} rows of {} ({} cached) as array tasks {}\n", sub.job_id,
                           job.rows.size(), table.id, cached, slurm_array_spec(job.rows));
  write_file_atomic(dir / "report.sbatch", slurm_report_script(job, sub.job_id));
  sub.report_job_id = submit(*sbatch, dir / "report.sbatch");
  write_slurm_submission(dir / "submission.json", sub);
  std::cout << fmt::format("submitted job {}: repro report {} once job {} has ended\n", sub.report_job_id, table.id,
                           sub.job_id);
  std::cout << fmt::format("scripts and logs: {}\nprogress: repro status {}\n", dir.string(), table.id);
  return 0;
}

int cmd_status(int argc, char** argv) {
  CommonOptions common;
  std::string table_name;
  po::options_description desc("repro status options");
  desc.add_options()("table", po::value(&table_name)->required(), "<paper>/<table>");
  add_common_options(desc, common);
  po::positional_options_description pos;
  pos.add("table", 1);
  po::variables_map vm;
  if (!parse(argc, argv, desc, pos, vm, "repro status <paper>/<table> [options]")) return 0;
  configure_process(common);

  std::string id;
  auto path = resolve_table(table_name, &id);
  RunContext ctx(make_run_options(common));
  TableSpec table = TableSpec::load(path, make_load_options(common), id);
  ResultStore store(results_root(common) / "runs");
  TableDriver driver(table, store, ctx);
  const auto plan = driver.plan(DriverOptions{});
  const fs::path table_dir = store.table_dir(table.id);

  // The latest submission of each row, and what squeue says about those jobs (when it is here).
  const auto submissions = read_slurm_submissions(table_dir / "slurm");
  std::map<size_t, const SlurmSubmission*> submitted;
  std::set<std::string> job_ids;
  for (const auto& s : submissions) {
    for (size_t r : s.rows) submitted[r] = &s;
    job_ids.insert(s.job_id);
    if (!s.report_job_id.empty()) job_ids.insert(s.report_job_id);
  }
  std::optional<std::map<std::string, std::string>> queue;  // nullopt: squeue is absent or failed
  std::string queue_note;
  if (!job_ids.empty()) {
    if (auto squeue = find_on_path("squeue")) {
      auto r = run_subprocess({squeue->string(), "--noheader", "--array", "--format=%i|%T",
                               "--jobs=" + join(std::vector<std::string>(job_ids.begin(), job_ids.end()), ",")});
      // squeue refuses a list of job ids none of which it still knows: then nothing is queued.
      if (r.ok() || r.err.find("Invalid job id") != std::string::npos)
        queue = parse_squeue(r.out);
      else
        queue_note = fmt::format("squeue failed (exit {}): {}", r.exit_code, last_line(r.err));
    } else {
      queue_note = "squeue is not on PATH: submitted rows are shown as 'submitted'";
    }
  }

  std::map<std::string, size_t> counts;
  std::cout << fmt::format("{} — {} ({} rows, scale {})\n", table.id, table.title, plan.size(), table.scale);
  for (const auto& p : plan) {
    const size_t index = p.row->index;
    std::string state, detail;
    const SlurmSubmission* sub = submitted.count(index) ? submitted[index] : nullptr;
    const std::string task = sub ? fmt::format("{}_{}", sub->job_id, index) : "";
    std::optional<std::string> queued;
    if (sub && queue)
      if (auto it = queue->find(task); it != queue->end()) queued = it->second;
    if (p.state == PlannedRow::State::Cached) {
      state = "done";
    } else if (auto holder = RowClaim::holder(table_dir, p.key)) {
      state = "running";
      detail = *holder + (sub ? ", slurm job " + task : "");
    } else if (queued) {
      state = *queued == "PENDING"                               ? "queued"
              : *queued == "RUNNING" || *queued == "CONFIGURING" ? "running"
                                                                 : lower(*queued);
      detail = fmt::format("slurm job {} {}", task, *queued);
    } else if (p.state == PlannedRow::State::Failed) {
      state = "failed";
      auto rec = store.get(table.id, p.key);
      detail = rec ? rec->error_type + ": " + rec->error_message : p.reason;
    } else if (sub && !queue) {
      state = "submitted";
      detail = "slurm job " + task + ", submitted " + sub->submitted_at;
    } else {
      state = "missing";
      if (p.state == PlannedRow::State::Unavailable)
        detail = p.reason;
      else if (sub)
        detail = "slurm job " + task +
                 " ended without a record (log: " + (sub->dir / fmt::format("row-{}.out", index)).string() + ")";
    }
    ++counts[state];
    std::cout << fmt::format("  [{:>3}] {:<9} {}{}\n", index, state, p.row->display,
                             detail.empty() ? "" : "  (" + detail + ")");
  }
  if (!submissions.empty()) {
    const auto& last = submissions.back();
    std::string report_state = "not submitted";
    if (!last.report_job_id.empty()) {
      report_state = "job " + last.report_job_id;
      if (queue) {
        auto it = queue->find(last.report_job_id);
        report_state += it != queue->end() ? " " + it->second : " ended";
      }
    }
    std::cout << fmt::format("slurm: {} submission(s), the last {} (rows job {}, report {})\n", submissions.size(),
                             last.submitted_at, last.job_id, report_state);
  }
  if (!queue_note.empty()) std::cout << "slurm: " << queue_note << "\n";
  std::vector<std::string> parts;
  for (const char* s : {"done", "failed", "running", "queued", "submitted", "missing"}) {
    parts.push_back(fmt::format("{} {}", counts[s], s));
    counts.erase(s);
  }
  for (const auto& [s, n] : counts) parts.push_back(fmt::format("{} {}", n, s));  // other SLURM states
  std::cout << fmt::format("{}: {} rows: {}\n", table.id, plan.size(), join(parts, ", "));
  print_cache_summary(common);
  return 0;
}

}  // namespace repro::cli
