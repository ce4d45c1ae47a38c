// repro reproduce <paper>/<table>  and  repro run-row <paper>/<table> <index>

#include <algorithm>
#include <iostream>

#include <fmt/format.h>

#include "apps/repro/cli.h"
#include "core/disk_cache.h"
#include "core/driver.h"
#include "core/error.h"
#include "core/strings.h"
#include "report/report.h"

namespace repro::cli {

namespace {

const char* state_name(PlannedRow::State s) {
  switch (s) {
    case PlannedRow::State::Cached: return "cached";
    case PlannedRow::State::Missing: return "missing";
    case PlannedRow::State::Failed: return "retry";
    case PlannedRow::State::Unavailable: return "unavailable";
  }
  return "?";
}

// The plan, with the suite's estimate of memory and time under each row still to run.
void print_plan(const TableSpec& table, const std::vector<PlannedRow>& plan, TableDriver& driver) {
  std::cout << fmt::format("{} — {} ({} rows, scale {})\n", table.id, table.title, plan.size(), table.scale);
  std::string last_reason;
  for (const auto& p : plan) {
    std::cout << fmt::format("  [{:>3}] {:<11} {}\n        {}\n", p.row->index, state_name(p.state), p.row->display,
                             p.row->pipeline());
    // A reason shared by consecutive rows (typically a missing dataset or model) is printed once.
    if (!p.reason.empty()) std::cout << "        " << (p.reason == last_reason ? "(same reason as above)" : p.reason) << "\n";
    last_reason = p.reason;
    if (p.state == PlannedRow::State::Missing || p.state == PlannedRow::State::Failed) {
      const nlohmann::json e = driver.estimate(*p.row);
      if (e.is_object() && e.contains("summary")) std::cout << "        needs " << e["summary"].get<std::string>() << "\n";
    }
  }
}

void report_table(const TableSpec& table, const ResultStore& store, const CommonOptions& common, bool plots) {
  auto records = store.list(table.id);
  auto paper = table.id.substr(0, table.id.find('/'));
  auto files = report::write_report(table, records, results_root(common) / paper, common.seed, plots);
  for (const auto& f : files.paths) std::cout << "wrote " << f.string() << "\n";
  for (const auto& c : files.claims) std::cout << report::claim_line(c) << "\n";
}

}  // namespace

int cmd_reproduce(int argc, char** argv) {
  CommonOptions common;
  DriverOptions drv;
  std::string table_name;
  bool dry_run = false, no_report = false, no_plots = false;
  po::options_description desc("repro reproduce options");
  desc.add_options()
      ("table", po::value(&table_name)->required(), "<paper>/<table> (paper_configs/<paper>/<table>.toml) or a .toml path")
      ("rows", po::value(&drv.rows_glob), "only rows whose label matches this glob (* and ?), e.g. 'SparseGPT*' or 'ALPS [sparsity=0.7]'")
      ("force", po::bool_switch(&drv.force), "recompute rows that already have a record")
      ("dry-run", po::bool_switch(&dry_run), "print the plan (rows, cached or missing) and exit")
      ("no-report", po::bool_switch(&no_report), "run rows without writing the report")
      ("no-plots", po::bool_switch(&no_plots), "write tables but no plots");
  add_common_options(desc, common);
  po::positional_options_description pos;
  pos.add("table", 1);
  po::variables_map vm;
  if (!parse(argc, argv, desc, pos, vm, "repro reproduce <paper>/<table> [options]")) return 0;
  configure_process(common);

  std::string id;
  auto path = resolve_table(table_name, &id);
  RunContext ctx(make_run_options(common));
  TableSpec table = TableSpec::load(path, make_load_options(common), id);
  ResultStore store(results_root(common) / "runs");
  TableDriver driver(table, store, ctx);
  if (!drv.rows_glob.empty() &&
      std::none_of(table.rows.begin(), table.rows.end(), [&](const RowSpec& r) { return glob_match(drv.rows_glob, r.display); })) {
    std::string labels;
    for (const auto& r : table.rows) labels += (labels.empty() ? "'" : ", '") + r.display + "'";
    throw UsageError(fmt::format("--rows '{}' matches no row of {} (* and ? are wildcards, brackets are literal); rows: {}",
                                 drv.rows_glob, table.id, labels));
  }
  if (dry_run) {
    print_plan(table, driver.plan(drv), driver);
    return 0;
  }
  DriverSummary s = driver.run(drv);
  if (!no_report) report_table(table, store, common, !no_plots);
  std::cout << fmt::format("{}: {} rows: {} cached, {} ran, {} failed{}\n", table.id, s.planned, s.cached, s.ran, s.failed,
                           s.elsewhere ? fmt::format(", {} computed by other processes", s.elsewhere) : "");
  const auto cache = make_run_options(common).cache_dir;
  const auto cached = list_cache(cache);
  if (!cached.empty()) {
    const auto cap = default_cache_cap();
    std::cout << fmt::format("cache: {} in {} files under {} (cap {}; see repro cache)\n", format_bytes(total_bytes(cached)),
                             cached.size(), cache.string(), cap ? format_bytes(*cap) : "none");
  }
  // 3: the table was produced but some rows failed (their error records are in the report).
  return s.failed ? 3 : 0;
}

int cmd_run_row(int argc, char** argv) {
  CommonOptions common;
  std::string table_name;
  int64_t index = -1;
  bool force = false;
  po::options_description desc("repro run-row options");
  desc.add_options()
      ("table", po::value(&table_name)->required(), "<paper>/<table>")
      ("index", po::value(&index)->required(), "row index in the expanded table (see reproduce --dry-run)")
      ("force", po::bool_switch(&force), "recompute even when a record exists");
  add_common_options(desc, common);
  po::positional_options_description pos;
  pos.add("table", 1).add("index", 1);
  po::variables_map vm;
  if (!parse(argc, argv, desc, pos, vm, "repro run-row <paper>/<table> <index> [options]")) return 0;
  configure_process(common);

  std::string id;
  auto path = resolve_table(table_name, &id);
  RunContext ctx(make_run_options(common));
  TableSpec table = TableSpec::load(path, make_load_options(common), id);
  if (index < 0 || index >= static_cast<int64_t>(table.rows.size()))
    throw UsageError(fmt::format("row index {} out of range: {} has rows 0..{}", index, table.id, table.rows.size() - 1));
  ResultStore store(results_root(common) / "runs");
  TableDriver driver(table, store, ctx);
  const RowSpec& row = table.rows[static_cast<size_t>(index)];
  if (!force) {
    DriverOptions only;
    for (const auto& p : driver.plan(only))
      if (p.row->index == row.index && p.state == PlannedRow::State::Cached) {
        std::cout << fmt::format("row {} ({}) is cached\n", index, row.display);
        return 0;
      }
  }
  std::string holder;
  auto result = driver.run_row(row, &holder);
  if (!result) {
    std::cout << fmt::format("row {} ({}) is being computed by {}\n", index, row.display, holder);
    return 0;
  }
  const Record& rec = *result;
  std::cout << fmt::format("row {} ({}): {}\n", index, row.display, rec.ok() ? "ok" : rec.error_type + ": " + rec.error_message);
  return rec.ok() ? 0 : 3;
}

int cmd_report(int argc, char** argv) {
  CommonOptions common;
  std::string table_name;
  bool no_plots = false;
  po::options_description desc("repro report options");
  desc.add_options()
      ("table", po::value(&table_name)->required(), "<paper>/<table>")
      ("no-plots", po::bool_switch(&no_plots), "write tables but no plots");
  add_common_options(desc, common);
  po::positional_options_description pos;
  pos.add("table", 1);
  po::variables_map vm;
  if (!parse(argc, argv, desc, pos, vm, "repro report <paper>/<table> [options]")) return 0;
  configure_process(common);
  std::string id;
  auto path = resolve_table(table_name, &id);
  TableSpec table = TableSpec::load(path, make_load_options(common), id);
  ResultStore store(results_root(common) / "runs");
  report_table(table, store, common, !no_plots);
  return 0;
}

}  // namespace repro::cli
