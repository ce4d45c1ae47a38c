#include "tests/catch.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "core/slurm.h"
#include "core/strings.h"
#include "core/subprocess.h"
#include "core/table_spec.h"
#include "tests/core/fake_plugins.h"
#include "tests/test_util.h"

using namespace repro;
using repro::test::TempDir;
namespace fs = std::filesystem;

namespace {

SlurmJob demo_job(const fs::path& repro, const fs::path& results) {
  SlurmJob job;
  job.table = "examples/layer_error";
  job.job_name = "repro-examples_layer_error";
  job.repro = repro;
  job.options = {"--results-dir", results.string(), "--seed", "3", "--model", "it's mine"};
  job.rows = {0, 2, 5};
  job.work_dir = "/srv/repro bench";
  job.log_dir = results / "slurm" / "s1";
  job.comment = "written by a test";
  return job;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  for (auto& l : split(text, '\n'))
    if (!l.empty()) out.push_back(l);
  return out;
}

bool has_line(const std::string& text, const std::string& line) {
  for (const auto& l : lines_of(text))
    if (l == line) return true;
  return false;
}

// Every #SBATCH line comes before the first command: sbatch stops reading options there.
void check_directives_first(const std::string& script) {
  bool commands = false;
  for (const auto& l : lines_of(script)) {
    if (l[0] != '#') commands = true;
    if (starts_with(l, "#SBATCH")) CHECK_FALSE(commands);
  }
}

std::string table_error(const std::string& slurm_section) {
  try {
    TableSpec::parse(
        parse_toml("[table]\ntitle = \"T\"\nsuite = \"fake\"\n" + slurm_section + "[[rows]]\nlabel = \"A\"\n",
                   "t.toml"),
        "demo/t", {});
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("slurm: the array script runs run-row for exactly its rows, paths with spaces quoted", "[core][slurm]") {
  SlurmJob job = demo_job("/opt/repro bin/repro", "/tmp/my results");
  job.resources.cpus = 4;
  job.resources.mem = "16G";
  job.resources.time = "2:00:00";
  job.resources.partition = "gpu";
  job.extra = {"--account=lab", "--qos high"};
  const std::string s = slurm_array_script(job);
  CHECK(starts_with(s, "#!/bin/bash\n# written by a test\n"));
  CHECK(has_line(s, "#SBATCH --array=0,2,5"));
  CHECK(has_line(s, "#SBATCH --job-name=repro-examples_layer_error"));
  CHECK(has_line(s, "#SBATCH --output=\"/tmp/my results/slurm/s1/row-%a.out\""));
  CHECK(has_line(s, "#SBATCH --chdir=\"/srv/repro bench\""));
  CHECK(has_line(s, "#SBATCH --cpus-per-task=4"));
  CHECK(has_line(s, "#SBATCH --mem=16G"));
  CHECK(has_line(s, "#SBATCH --time=2:00:00"));
  CHECK(has_line(s, "#SBATCH --partition=gpu"));
  CHECK(has_line(s, "#SBATCH --account=lab"));
  CHECK(has_line(s, "#SBATCH --qos high"));
  CHECK(has_line(s, "  0|2|5) ;;"));
  CHECK(has_line(s,
                 "exec '/opt/repro bin/repro' run-row examples/layer_error \"$SLURM_ARRAY_TASK_ID\" "
                 "--results-dir '/tmp/my results' --seed 3 --model 'it'\\''s mine'"));
  CHECK(s.find("--dependency") == std::string::npos);
  check_directives_first(s);

  SlurmJob bare = demo_job("/usr/bin/repro", "/r");
  const std::string b = slurm_array_script(bare);
  for (const char* absent : {"--cpus-per-task", "--mem", "--time", "--partition"})
    CHECK(b.find(absent) == std::string::npos);
  CHECK(has_line(b, "#SBATCH --output=/r/slurm/s1/row-%a.out"));
}

TEST_CASE("slurm: the array script, run by bash, passes each argument whole and refuses other task ids",
          "[core][slurm]") {
  TempDir dir;
  const fs::path bin = dir.path() / "a folder" / "fake repro";
  fs::create_directories(bin.parent_path());
  {
    std::ofstream out(bin);
    out << "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]\\n' \"$a\"; done\n";
  }
  ::chmod(bin.c_str(), 0755);
  SlurmJob job = demo_job(bin, dir.path() / "my results");
  const fs::path script = dir.path() / "rows.sbatch";
  write_file_atomic(script, slurm_array_script(job));

  auto r = run_subprocess({"env", "SLURM_ARRAY_TASK_ID=2", "bash", script.string()});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "[run-row]\n[examples/layer_error]\n[2]\n[--results-dir]\n[" + (dir.path() / "my results").string() +
                     "]\n[--seed]\n[3]\n[--model]\n[it's mine]\n");

  auto wrong = run_subprocess({"env", "SLURM_ARRAY_TASK_ID=3", "bash", script.string()});
  CHECK(wrong.exit_code == 2);
  CHECK(wrong.out.empty());
  CHECK(wrong.err.find("not one of the rows 0,2,5") != std::string::npos);
  CHECK(run_subprocess({"env", "-u", "SLURM_ARRAY_TASK_ID", "bash", script.string()}).exit_code == 2);
}

TEST_CASE("slurm: the report job waits for the array (afterany) and runs repro report", "[core][slurm]") {
  SlurmJob job = demo_job("/opt/repro bin/repro", "/tmp/my results");
  job.resources.cpus = 8;
  job.resources.mem = "64G";
  job.resources.partition = "long";
  job.extra = {"--account=lab"};
  const std::string s = slurm_report_script(job, "4711");
  CHECK(has_line(s, "#SBATCH --dependency=afterany:4711"));
  CHECK(has_line(s, "#SBATCH --job-name=repro-examples_layer_error-report"));
  CHECK(has_line(s, "#SBATCH --output=\"/tmp/my results/slurm/s1/report.out\""));
  CHECK(has_line(s, "#SBATCH --cpus-per-task=1"));
  CHECK(has_line(s, "#SBATCH --partition=long"));
  CHECK(has_line(s, "#SBATCH --account=lab"));
  CHECK(s.find("--mem") == std::string::npos);
  CHECK(s.find("--array") == std::string::npos);
  CHECK(has_line(s,
                 "exec '/opt/repro bin/repro' report examples/layer_error --results-dir '/tmp/my results' --seed 3 "
                 "--model 'it'\\''s mine'"));
  check_directives_first(s);
}

TEST_CASE("slurm: shell quoting and the array spec", "[core][slurm]") {
  CHECK(shell_quote("examples/layer_error") == "examples/layer_error");
  CHECK(shell_quote("--seed=3") == "--seed=3");
  CHECK(shell_quote("") == "''");
  CHECK(shell_quote("a b") == "'a b'");
  CHECK(shell_quote("it's") == "'it'\\''s'");
  CHECK(shell_quote("$HOME") == "'$HOME'");
  CHECK(shell_quote("a*") == "'a*'");
  CHECK(shell_quote("x;rm") == "'x;rm'");
  CHECK(slurm_array_spec({3}) == "3");
  CHECK(slurm_array_spec({0, 1, 7, 12}) == "0,1,7,12");
}

TEST_CASE("slurm: the [slurm] section of a table config", "[core][slurm][table]") {
  auto t = TableSpec::parse(parse_toml("[table]\ntitle = \"T\"\nsuite = \"fake\"\n"
                                       "[slurm]\ncpus = 4\nmem = \"16G\"\ntime = \"1-12:00:00\"\npartition = \"cpu\"\n"
                                       "[[rows]]\nlabel = \"A\"\n",
                                       "t.toml"),
                            "demo/t", {});
  CHECK(t.slurm.cpus == 4);
  CHECK(t.slurm.mem == "16G");
  CHECK(t.slurm.time == "1-12:00:00");
  CHECK(t.slurm.partition == "cpu");
  CHECK(table_error("") == "(no error)");
  auto none = TableSpec::parse(
      parse_toml("[table]\ntitle = \"T\"\nsuite = \"fake\"\n[[rows]]\nlabel = \"A\"\n", "t.toml"), "demo/t", {});
  CHECK(none.slurm == SlurmResources{});

  auto err = table_error("[slurm]\ncpu = 4\n");
  CHECK(err.find("t.toml:") != std::string::npos);
  CHECK(err.find("slurm.cpu") != std::string::npos);
  CHECK(err.find("did you mean 'cpus'") != std::string::npos);
  CHECK(table_error("[slurm]\ncpus = 0\n").find("key 'slurm.cpus'") != std::string::npos);
  CHECK(table_error("[slurm]\ncpus = \"4\"\n").find("expected int") != std::string::npos);
  CHECK(table_error("[slurm]\nmem = \"16GB\"\n").find("not a SLURM memory size") != std::string::npos);
  CHECK(table_error("[slurm]\nmem = 16\n").find("expected string") != std::string::npos);
  CHECK(table_error("[slurm]\ntime = \"1:2:3:4\"\n").find("not a SLURM time limit") != std::string::npos);
  CHECK(table_error("[slurm]\ntime = \"1 day\"\n").find("key 'slurm.time'") != std::string::npos);
  CHECK(table_error("[slurm]\npartition = \"a b\"\n").find("slurm.partition") != std::string::npos);
  CHECK(table_error("slurm = 3\n").find("slurm") != std::string::npos);
}

TEST_CASE("slurm: time and memory values as sbatch takes them", "[core][slurm]") {
  for (const char* ok : {"90", "30:00", "1:30:00", "2-0", "2-12:30", "2-12:30:00", "0", "UNLIMITED"})
    CHECK(slurm_time_problem(ok).empty());
  for (const char* bad : {"", "1h", "1:30:00:00", "-1", "2-", "1.5", "unlimited"})
    CHECK_FALSE(slurm_time_problem(bad).empty());
  for (const char* ok : {"500", "16G", "4000M", "1T", "512k"}) CHECK(slurm_mem_problem(ok).empty());
  for (const char* bad : {"", "16GB", "1.5G", "G", "0G", "-1"}) CHECK_FALSE(slurm_mem_problem(bad).empty());
}

TEST_CASE("slurm: command-line resources win over the table's, and are validated", "[core][slurm]") {
  SlurmResources table;
  table.cpus = 4;
  table.mem = "16G";
  table.partition = "cpu";
  SlurmResources flags;
  flags.mem = "32G";
  flags.time = "10";
  auto r = table.merged(flags);
  CHECK(r.cpus == 4);
  CHECK(r.mem == "32G");
  CHECK(r.time == "10");
  CHECK(r.partition == "cpu");

  SlurmResources bad;
  bad.time = "soon";
  REQUIRE_THROWS_AS(validate_slurm_resources(bad), ConfigError);
  try {
    validate_slurm_resources(bad);
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()).find("--slurm-time") != std::string::npos);
  }
  SlurmResources zero;
  zero.cpus = 0;
  CHECK_THROWS_AS(validate_slurm_resources(zero), ConfigError);
  CHECK_NOTHROW(validate_slurm_resources(r));
}

TEST_CASE("slurm: --slurm-extra becomes one #SBATCH line per option; reserved options are refused", "[core][slurm]") {
  CHECK(parse_sbatch_extra("").empty());
  CHECK(parse_sbatch_extra("  --account=lab   --qos high -N 1 ") ==
        std::vector<std::string>{"--account=lab", "--qos high", "-N 1"});
  CHECK_THROWS_AS(parse_sbatch_extra("account=lab"), ConfigError);
  for (const char* reserved :
       {"--array=1-3", "-a 1", "--output=x", "-ox", "--dependency=afterok:1", "--chdir /", "-J x"})
    CHECK_THROWS_AS(parse_sbatch_extra(reserved), ConfigError);
  CHECK_NOTHROW(parse_sbatch_extra("--exclusive --gres=gpu:1"));
}

TEST_CASE("slurm: sbatch's and squeue's output", "[core][slurm]") {
  CHECK(parse_sbatch_job_id("4711\n") == "4711");
  CHECK(parse_sbatch_job_id("4711;cluster2\n") == "4711");
  CHECK_THROWS_AS(parse_sbatch_job_id("Submitted batch job 4711\n"), IoError);
  CHECK_THROWS_AS(parse_sbatch_job_id(""), IoError);
  auto q = parse_squeue("12_0|RUNNING\n12_5|PENDING\n13|PENDING\ngarbage\n|X\n");
  CHECK(q.size() == 3);
  CHECK(q["12_0"] == "RUNNING");
  CHECK(q["12_5"] == "PENDING");
  CHECK(q["13"] == "PENDING");
  CHECK(parse_squeue("").empty());
}

TEST_CASE("slurm: submissions are recorded and read back oldest first; damaged ones skipped", "[core][slurm]") {
  TempDir dir;
  SlurmSubmission a{"20", "21", {1, 3}, "2026-01-02T00:00:00Z", {}};
  SlurmSubmission b{"10", "", {0}, "2026-01-01T00:00:00Z", {}};
  write_slurm_submission(dir.path() / "x" / "submission.json", a);
  write_slurm_submission(dir.path() / "y" / "submission.json", b);
  fs::create_directories(dir.path() / "z");
  std::ofstream(dir.path() / "z" / "submission.json") << "{\"job_id\": ";
  auto subs = read_slurm_submissions(dir.path());
  REQUIRE(subs.size() == 2);
  CHECK(subs[0].job_id == "10");
  CHECK(subs[0].report_job_id.empty());
  CHECK(subs[0].rows == std::vector<size_t>{0});
  CHECK(subs[0].dir == dir.path() / "y");
  CHECK(subs[1].job_id == "20");
  CHECK(subs[1].report_job_id == "21");
  CHECK(subs[1].rows == std::vector<size_t>{1, 3});
  CHECK(subs[1].submitted_at == "2026-01-02T00:00:00Z");
  CHECK(read_slurm_submissions(dir.path() / "absent").empty());
}

TEST_CASE("subprocess: exit codes, signals, stdout and stderr captured, arguments never re-split",
          "[core][subprocess]") {
  auto ok = run_subprocess({"printf", "%s|", "a b", "$HOME", "c;d"});
  CHECK(ok.exit_code == 0);
  CHECK(ok.ok());
  CHECK(ok.out == "a b|$HOME|c;d|");
  CHECK(ok.err.empty());

  auto three = run_subprocess({"sh", "-c", "echo out; echo err >&2; exit 3"});
  CHECK(three.exit_code == 3);
  CHECK_FALSE(three.ok());
  CHECK(three.out == "out\n");
  CHECK(three.err == "err\n");

  auto killed = run_subprocess({"sh", "-c", "kill -TERM $$"});
  CHECK(killed.exit_code == -1);
  CHECK(killed.signal == 15);

  // More than a pipe's buffer on both streams at once: read together, or the child would block.
  auto big = run_subprocess({"sh", "-c", "head -c 300000 /dev/zero; head -c 200000 /dev/zero >&2"});
  CHECK(big.exit_code == 0);
  CHECK(big.out.size() == 300000);
  CHECK(big.err.size() == 200000);

  CHECK(run_subprocess({"cat"}).out.empty());  // stdin is /dev/null: cat ends at once
  CHECK_THROWS_AS(run_subprocess({"repro-no-such-program-xyz"}), IoError);
  CHECK_THROWS_AS(run_subprocess({"/nonexistent/dir/prog"}), IoError);
}

TEST_CASE("subprocess: find_on_path", "[core][subprocess]") {
  auto sh = find_on_path("sh");
  REQUIRE(sh);
  CHECK(sh->is_absolute());
  CHECK(sh->filename() == "sh");
  CHECK_FALSE(find_on_path("repro-no-such-program-xyz"));
  CHECK_FALSE(find_on_path(""));
  CHECK(find_on_path("/bin/sh") == fs::path("/bin/sh"));
  CHECK_FALSE(find_on_path("/nonexistent/sh"));
}
