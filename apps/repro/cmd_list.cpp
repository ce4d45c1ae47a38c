// repro list methods|suites|tables  and  repro plot

#include <iostream>

#include <fmt/format.h>

#include "apps/repro/cli.h"
#include "core/error.h"
#include "core/registry.h"
#include "core/store.h"
#include "core/strings.h"
#include "core/suite_registry.h"
#include "report/report.h"

namespace repro::cli {

namespace {

void print_params(const std::vector<ParamSpec>& params) {
  for (const auto& p : params) {
    std::string def = p.required() ? "required" : "default " + (p.default_value.is_string() ? "'" + p.default_value.as_string() + "'" : p.default_value.canonical());
    const std::string constraint = p.constraint();
    std::cout << fmt::format("      {:<18} {:<15} {:<22} {}{}\n", p.name, param_type_name(p.type), def, p.doc,
                             constraint.empty() ? "" : " (" + constraint + ")");
  }
}

void list_methods() {
  for (const auto& family : Catalog::instance().families()) {
    if (family == Suite::kFamily) continue;  // repro list suites
    std::cout << family << ":\n";
    for (const MethodInfo* m : Catalog::instance().list(family)) {
      std::cout << fmt::format("  {:<20} {}\n", m->name, m->summary);
      if (!m->paper.empty()) std::cout << fmt::format("      paper: {}\n", m->paper);
      print_params(m->params);
    }
  }
}

void list_suites() {
  std::cout << Suite::kFamily << ":\n";
  for (const SuiteInfo* s : SuiteRegistry::instance().list()) {
    std::cout << fmt::format("  {:<20} {}\n", s->name, s->summary);
    if (!s->paper.empty()) std::cout << fmt::format("      paper: {}\n", s->paper);
    print_params(s->params);
    for (const auto& slot : s->slots)
      std::cout << fmt::format("      slot {:<13} {}{} — {}\n", slot.key, slot.family, slot.list ? " (list)" : "", slot.doc);
    for (const auto& metric : s->metrics)
      std::cout << fmt::format("      metric {:<16} {} is better — {}\n", metric.name, better_name(metric.better), metric.doc);
  }
}

}  // namespace

int cmd_list(int argc, char** argv) {
  std::string what;
  po::options_description desc("repro list options");
  desc.add_options()("what", po::value(&what)->required(), "methods, suites or tables");
  po::positional_options_description pos;
  pos.add("what", 1);
  po::variables_map vm;
  if (!parse(argc, argv, desc, pos, vm, "repro list methods|suites|tables")) return 0;
  if (what == "methods") {
    list_methods();
  } else if (what == "suites") {
    list_suites();
  } else if (what == "tables") {
    for (const auto& t : list_tables()) std::cout << t << "\n";
  } else {
    throw UsageError(fmt::format("cannot list '{}'{}; use methods, suites or tables", what,
                                 did_you_mean(what, {"methods", "suites", "tables"})));
  }
  return 0;
}

int cmd_plot(int argc, char** argv) {
  CommonOptions common;
  std::string table_name, x_better = "lower", y_better = "lower", out;
  PlotSpec plot;
  po::options_description desc("repro plot options");
  desc.add_options()
      ("table", po::value(&table_name)->required(), "<paper>/<table> whose records to plot (all of them)")
      ("x", po::value(&plot.x)->required(), "metric on the x axis")
      ("y", po::value(&plot.y)->required(), "metric on the y axis")
      ("x-better", po::value(&x_better)->default_value("lower"), "lower or higher")
      ("y-better", po::value(&y_better)->default_value("lower"), "lower or higher")
      ("log-x", po::bool_switch(&plot.log_x), "logarithmic x axis")
      ("log-y", po::bool_switch(&plot.log_y), "logarithmic y axis")
      ("join-x", po::bool_switch(&plot.join_by_x), "join each series' points in x order (default: row order)")
      ("point-labels", po::bool_switch(&plot.point_labels), "write each point's sweep values beside it (e.g. 8:16)")
      ("reference", po::value(&plot.reference)->multitoken()->composing(),
       "row labels drawn as a horizontal line at their y (e.g. Dense), not as points")
      ("title", po::value(&plot.title), "plot title (default: '<y> vs <x>')")
      ("out", po::value(&out), "output path without extension (default: results/<paper>/<table>-<x>-vs-<y>)")
      ("results-dir", po::value(&common.results_dir), "results folder (default: <project>/results)");
  po::positional_options_description pos;
  pos.add("table", 1);
  po::variables_map vm;
  if (!parse(argc, argv, desc, pos, vm, "repro plot <paper>/<table> --x METRIC --y METRIC [options]")) return 0;
  std::string id;
  // The table's rows group the records into series (its [[rows]] labels) and give the paper's styles.
  TableSpec table = TableSpec::load(resolve_table(table_name, &id), {}, id);
  std::vector<std::string> labels;
  for (const auto& r : table.rows) labels.push_back(r.display);
  for (const auto& ref : plot.reference)
    if (!table.find_row(ref))
      throw UsageError(fmt::format("--reference: {} has no row labelled '{}'{}", id, ref, did_you_mean(ref, labels)));
  ResultStore store(results_root(common) / "runs");
  auto records = store.list(id);
  if (records.empty()) throw ConfigError(fmt::format("no records for {} under {}", id, store.table_dir(id).string()));
  std::filesystem::path base = out.empty() ? results_root(common) / id.substr(0, id.find('/')) /
                                                 fmt::format("{}-{}-vs-{}", id.substr(id.find('/') + 1), plot.y, plot.x)
                                           : std::filesystem::path(out);
  try {
    plot.x_better = parse_better(x_better);
    plot.y_better = parse_better(y_better);
  } catch (const ConfigError& e) {
    throw UsageError(e.what());
  }
  for (const auto& p : report::write_adhoc_plot(records, plot, &table, base)) std::cout << "wrote " << p.string() << "\n";
  return 0;
}

}  // namespace repro::cli
