#pragma once
// A reproduced table: paper_configs/<paper>/<table>.toml parsed, validated and expanded.
//
//   [table]   title, suite, paper_model, description, metrics (report columns), paper_source
//   [suite]   suite parameters for every row (embedded scale)
//   [scale.paper]  suite parameter overrides at --scale paper
//   [[rows]]  label, component slots (compressor = { method = "rtn", bits = [2, 3, 4] }),
//             suite parameter overrides, paper = { metric = value }, paper_uncertain, note;
//             any row value may be given per scale: rank = { embedded = 4, paper = 64 }
//   [[claims]] the paper's claims, checked in the report (see ClaimSpec)
//   [[plots]]  Pareto plots: x, y, x_better, y_better, log_x, log_y, title, reference, series,
//              join, point_labels (see PlotSpec)
//   [slurm]   what one row's SLURM array task asks for: cpus, mem, time, partition (core/slurm.h)
//
// A list given where a parameter takes one value is a sweep: the row expands to one row per
// value (several lists: their Cartesian product). The expanded row's label gets the values:
// "RTN [bits=3]". Claims and plots refer to rows by these labels.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/params.h"
#include "core/slurm.h"
#include "core/suite.h"

namespace repro {

struct Component {
  std::string slot;    // "compressor"
  std::string method;  // "rtn"
  Params params;
  const MethodInfo* info = nullptr;

  // "rtn(bits=4,group_size=128,sym=false)"
  std::string canonical() const;
};

struct RowSpec {
  std::string table_id;
  size_t index = 0;         // position in the expanded table
  size_t source_row = 0;    // index of the [[rows]] entry it came from
  std::string label;        // the [[rows]] label
  std::string display;      // label + sweep values: "RTN [bits=3]"
  std::vector<std::pair<std::string, std::string>> sweep;  // axis -> value
  Params suite_params;
  std::vector<Component> components;  // in slot order; list slots keep their order
  std::map<std::string, double> paper;  // the paper's numbers for this row
  bool paper_uncertain = false;
  std::string note;
  std::string scale = "embedded";
  SourceLoc loc;

  // Components in one slot (empty when the slot is unused).
  std::vector<const Component*> slot(const std::string& key) const;
  const Component* first(const std::string& key) const;

  // "gptq(bits=3,...)+tm(epochs=1)" or "dense" when there are no components.
  std::string pipeline() const;
  // pipeline + " | " + suite parameters: the canonical identity of the row's computation.
  std::string canonical() const;
};

// AtMost / AtLeast bound one row's metric by a number (`a` and `threshold`, no `b`); the others
// compare two rows. The semantics: report/claims.h.
enum class ClaimKind { Less, Greater, Better, GapClosed, RatioBelow, RatioAbove, AtMost, AtLeast };

struct ClaimSpec {
  ClaimKind kind = ClaimKind::Less;
  std::string metric;
  std::string a, b, ref;   // row display labels (at_most / at_least: b = a)
  size_t a_row = 0, b_row = 0, ref_row = 0;
  double threshold = 0.0;  // margin (less/greater/better), fraction (gap_closed), bound (ratio_*, at_*)
  std::string text;        // the claim in words, from the paper
  std::string note;        // optional context printed under the claim (e.g. scale caveats)
  SourceLoc loc;
};
std::string claim_kind_name(ClaimKind k);

// One plot of a table: one series per [[rows]] label, its sweep joined in row order (`join = "x"`:
// in x order, for a sweep whose x does not grow with it); rows named in `reference` ("Dense") are
// drawn as a labelled horizontal line at their y, not as points; `series` keeps only the [[rows]]
// labels it names, in its order (N:M rows, all at one density, left out of a density plot);
// `point_labels` writes each of our points' sweep values beside it ("8:16").
struct PlotSpec {
  std::string name = "pareto";
  std::string x, y;
  Better x_better = Better::Lower, y_better = Better::Lower;
  bool log_x = false, log_y = false;
  std::string title;
  std::vector<std::string> reference;  // row display labels, as written
  std::vector<size_t> reference_rows;  // their indices in TableSpec::rows, same order
  std::vector<std::string> series;     // [[rows]] labels to draw, in key order; empty: every label
  bool join_by_x = false;              // join = "x" (default "rows")
  bool point_labels = false;
};

struct LoadOptions {
  std::string scale = "embedded";    // "embedded" | "paper"
  std::optional<std::string> model;  // --model: overrides the suite's 'model' parameter
};

struct TableSpec {
  std::string id;  // "examples/layer_error"
  std::string title, suite, paper_model, description, paper_source;
  std::string scale = "embedded";
  std::vector<std::string> metrics;  // report columns
  const SuiteInfo* suite_info = nullptr;
  std::vector<RowSpec> rows;
  std::vector<ClaimSpec> claims;
  std::vector<PlotSpec> plots;
  SlurmResources slurm;  // [slurm]: each row's request under --launcher slurm
  std::filesystem::path source;

  // Parses and validates the file; needs the suite and methods to be registered. `id` defaults to
  // "<parent folder>/<file stem>".
  static TableSpec load(const std::filesystem::path& path, const LoadOptions& options = {},
                        const std::string& id = "");
  static TableSpec parse(const Value& root, const std::string& id, const LoadOptions& options);

  const RowSpec* find_row(const std::string& display) const;
  // Direction of a metric (from the suite); Better::None when unknown.
  Better metric_better(const std::string& metric) const;
};

}  // namespace repro
