#include "core/table_spec.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

#include <fmt/format.h>

#include "core/config.h"
#include "core/error.h"
#include "core/strings.h"
#include "core/suite_registry.h"

namespace repro {

std::string better_name(Better b) {
  switch (b) {
    case Better::Lower: return "lower";
    case Better::Higher: return "higher";
    case Better::None: return "none";
  }
  return "none";
}

Better parse_better(const std::string& s) {
  if (s == "lower") return Better::Lower;
  if (s == "higher") return Better::Higher;
  if (s == "none") return Better::None;
  throw ConfigError(fmt::format("'{}' is not a direction (use lower, higher or none)", s));
}

std::string claim_kind_name(ClaimKind k) {
  switch (k) {
    case ClaimKind::Less: return "less";
    case ClaimKind::Greater: return "greater";
    case ClaimKind::Better: return "better";
    case ClaimKind::GapClosed: return "gap_closed";
    case ClaimKind::RatioBelow: return "ratio_below";
    case ClaimKind::RatioAbove: return "ratio_above";
    case ClaimKind::AtMost: return "at_most";
    case ClaimKind::AtLeast: return "at_least";
  }
  return "?";
}

std::string Component::canonical() const { return method + "(" + params.canonical() + ")"; }

std::vector<const Component*> RowSpec::slot(const std::string& key) const {
  std::vector<const Component*> out;
  for (const auto& c : components)
    if (c.slot == key) out.push_back(&c);
  return out;
}

const Component* RowSpec::first(const std::string& key) const {
  for (const auto& c : components)
    if (c.slot == key) return &c;
  return nullptr;
}

std::string RowSpec::pipeline() const {
  if (components.empty()) return "dense";
  std::vector<std::string> parts;
  for (const auto& c : components) parts.push_back(c.canonical());
  return join(parts, "+");
}

std::string RowSpec::canonical() const { return pipeline() + " | " + suite_params.canonical(); }

namespace {

// One swept parameter: where it lives and the values it takes.
struct Axis {
  std::string name;      // short display name ("bits"); qualified on collision ("compressor.bits")
  std::string qualified; // "compressor.bits" or "suite.dataset" or "transforms[0].alpha"
  Value::Table* target;  // table whose key is swept (in the working copy)
  std::string key;
  Value::Array values;
};

bool is_sweep(const Value& v, ParamType t) {
  if (!v.is_array()) return false;
  if (!is_list_type(t)) return true;
  // A list parameter is swept when given a list of lists.
  return !v.as_array().empty() && v.as_array().front().is_array();
}

struct ComponentDraft {
  std::string slot;
  std::string method;
  const MethodInfo* info;
  Value::Table table;  // parameters only (no "method")
  std::string path;    // "rows[2].compressor"
};

const std::vector<std::string> kRowKeys = {"label", "paper", "paper_uncertain", "note"};

// A row value written per scale, `rank = { embedded = 4, paper = 64 }`, becomes the value of the
// table's scale, anywhere in a row (suite parameters, components, nested components). A table is
// per-scale when its keys are exactly `embedded` and `paper`; no parameter or component has both.
Value resolve_scaled(const Value& v, const std::string& scale) {
  if (v.is_array()) {
    Value::Array out;
    for (const auto& e : v.as_array()) out.push_back(resolve_scaled(e, scale));
    return Value(std::move(out)).set_loc(v.loc());
  }
  if (!v.is_table()) return v;
  const auto& t = v.as_table();
  if (t.size() == 2 && t.count("embedded") && t.count("paper")) {
    Value chosen = resolve_scaled(t.at(scale), scale);
    if (!chosen.loc().known()) chosen.set_loc(v.loc());
    return chosen;
  }
  Value::Table out;
  for (const auto& [k, e] : t) out[k] = resolve_scaled(e, scale);
  return Value(std::move(out)).set_loc(v.loc());
}

Value::Table merged_suite_defaults(const Value& root, const SuiteInfo& suite, const LoadOptions& options,
                                   const std::string& file) {
  Value::Table out;
  std::vector<std::string> names;
  for (const auto& p : suite.params) names.push_back(p.name);
  if (const Value* s = root.find("suite")) {
    ConfigView sv(*s, "suite");
    if (!s->is_table()) ConfigView(root, "").type_error("suite", "table");
    sv.check_keys(names);
    for (const auto& [k, v] : s->as_table()) out[k] = v;
  }
  if (options.scale == "paper") {
    if (const Value* sc = root.find("scale")) {
      ConfigView scv(*sc, "scale");
      scv.check_keys({"paper"});
      if (auto pv = scv.find_table("paper")) {
        pv->check_keys(names);
        for (const auto& [k, v] : pv->value().as_table()) out[k] = v;
      }
    }
  } else if (options.scale != "embedded") {
    throw ConfigError(fmt::format("{}: unknown scale '{}' (use embedded or paper)", file, options.scale));
  }
  if (options.model) {
    if (!suite.find_param("model"))
      throw ConfigError(fmt::format("--model given, but suite '{}' takes no model", suite.name));
    out["model"] = Value(*options.model);
  }
  return out;
}

}  // namespace

TableSpec TableSpec::load(const std::filesystem::path& path, const LoadOptions& options, const std::string& id) {
  Value root = load_toml_file(path);
  std::string tid = id;
  if (tid.empty()) tid = path.parent_path().filename().string() + "/" + path.stem().string();
  TableSpec t = parse(root, tid, options);
  t.source = path;
  return t;
}

TableSpec TableSpec::parse(const Value& root, const std::string& id, const LoadOptions& options) {
  TableSpec t;
  t.id = id;
  t.scale = options.scale;
  const std::string file = root.loc().file ? *root.loc().file : id;
  ConfigView top(root, "");
  top.check_keys({"table", "suite", "scale", "rows", "claims", "plots", "slurm"});
  ConfigView tab = top.get_table("table");
  tab.check_keys({"title", "suite", "paper_model", "description", "metrics", "paper_source"});
  t.title = tab.get_string("title");
  t.suite = tab.get_string("suite");
  t.paper_model = tab.get_string("paper_model", "");
  t.description = tab.get_string("description", "");
  t.paper_source = tab.get_string("paper_source", "");
  if (auto slurm = top.find_table("slurm")) t.slurm = parse_slurm_resources(*slurm);

  const SuiteInfo* sinfo = SuiteRegistry::instance().find(t.suite);
  if (!sinfo)
    tab.fail("suite", fmt::format("unknown suite '{}'{}; registered: {}", t.suite,
                                  did_you_mean(t.suite, SuiteRegistry::instance().names()),
                                  join(SuiteRegistry::instance().names(), ", ")));
  t.suite_info = sinfo;
  const SuiteInfo& suite = *t.suite_info;

  t.metrics = tab.get_string_list("metrics");
  if (t.metrics.empty())
    for (const auto& m : suite.metrics) t.metrics.push_back(m.name);

  Value::Table suite_defaults = merged_suite_defaults(root, suite, options, file);

  std::vector<std::string> row_keys = kRowKeys;
  for (const auto& s : suite.slots) row_keys.push_back(s.key);
  for (const auto& p : suite.params) row_keys.push_back(p.name);

  const auto& rows = top.get_array("rows");
  if (rows.empty()) top.fail("rows", "a table needs at least one [[rows]] entry");
  for (size_t ri = 0; ri < rows.size(); ++ri) {
    const std::string rpath = fmt::format("rows[{}]", ri);
    if (!rows[ri].is_table()) throw ConfigError(fmt::format("{}{}: expected a table", loc_prefix(rows[ri]), rpath));
    const Value row_value = resolve_scaled(rows[ri], options.scale);
    ConfigView rv(row_value, rpath);
    rv.check_keys(row_keys);
    std::string label = rv.get_string("label");

    // Working copies that the sweep expansion writes into.
    Value::Table suite_table = suite_defaults;
    for (const auto& p : suite.params)
      if (const Value* v = rv.find(p.name)) suite_table[p.name] = *v;
    if (options.model) suite_table["model"] = Value(*options.model);  // --model wins over the rows

    std::vector<ComponentDraft> drafts;
    for (const auto& slot : suite.slots) {
      const Value* sv = rv.find(slot.key);
      if (!sv) continue;
      std::vector<const Value*> items;
      if (slot.list) {
        if (!sv->is_array()) rv.type_error(slot.key, "array of tables");
        for (const auto& e : sv->as_array()) items.push_back(&e);
      } else {
        items.push_back(sv);
      }
      for (size_t k = 0; k < items.size(); ++k) {
        const Value& item = *items[k];
        std::string cpath = slot.list ? fmt::format("{}.{}[{}]", rpath, slot.key, k) : rpath + "." + slot.key;
        ComponentDraft d;
        d.slot = slot.key;
        d.path = cpath;
        if (item.is_string()) {
          d.method = item.as_string();
        } else if (item.is_table()) {
          ConfigView cv(item, cpath);
          d.method = cv.get_string("method");
          for (const auto& [kk, vv] : item.as_table())
            if (kk != "method") d.table[kk] = vv;
        } else {
          throw ConfigError(fmt::format("{}key '{}': expected a method name or a table with 'method', got {}",
                                        loc_prefix(item), cpath, item.type_name()));
        }
        d.info = Catalog::instance().find(slot.family, d.method);
        if (!d.info) {
          auto known = Catalog::instance().names(slot.family);
          throw ConfigError(fmt::format("{}key '{}.method': unknown {} '{}'{}; registered: {}", loc_prefix(item),
                                        cpath, slot.family, d.method, did_you_mean(d.method, known),
                                        known.empty() ? "(none)" : join(known, ", ")));
        }
        drafts.push_back(std::move(d));
      }
    }

    // Collect the sweep axes.
    std::vector<Axis> axes;
    for (const auto& p : suite.params) {
      auto it = suite_table.find(p.name);
      if (it != suite_table.end() && is_sweep(it->second, p.type))
        axes.push_back({p.name, "suite." + p.name, &suite_table, p.name, it->second.as_array()});
    }
    // A component's parameters, and those of the components nested in it (a table value of a
    // component parameter: `mask_solver = { method = "x", iters = [100, 300] }`), may be swept.
    std::function<void(Value::Table&, const MethodInfo&, const std::string&)> collect =
        [&](Value::Table& table, const MethodInfo& info, const std::string& prefix) {
          for (const auto& p : info.params) {
            auto it = table.find(p.name);
            if (it == table.end()) continue;
            if (p.type == ParamType::Component) {
              const Value* m = it->second.find("method");
              const MethodInfo* nested = m && m->is_string() ? Catalog::instance().find(p.family, m->as_string()) : nullptr;
              if (it->second.is_table() && nested) collect(it->second.as_table(), *nested, prefix + "." + p.name);
              continue;
            }
            if (is_sweep(it->second, p.type))
              axes.push_back({p.name, prefix + "." + p.name, &table, p.name, it->second.as_array()});
          }
        };
    for (auto& d : drafts) collect(d.table, *d.info, d.path.substr(rpath.size() + 1));
    for (auto& a : axes) {
      if (a.values.empty())
        throw ConfigError(fmt::format("{}: key '{}.{}': an empty list sweeps over nothing", rv.where(label), rpath,
                                      a.qualified));
      int same = 0;
      for (const auto& b : axes) same += (b.name == a.name);
      if (same > 1) a.name = a.qualified;
    }

    // Paper values: scalars apply to every expanded row; a list follows the single sweep axis.
    std::map<std::string, Value> paper_raw;
    if (auto pv = rv.find_table("paper")) {
      for (const auto& [m, v] : pv->value().as_table()) {
        if (v.is_number()) {
          paper_raw[m] = v;
        } else if (v.is_array()) {
          if (axes.size() != 1 || v.as_array().size() != axes[0].values.size())
            pv->fail(m, fmt::format("a list of paper values needs exactly one sweep axis of the same length "
                                    "(this row has {} axes)", axes.size()));
          for (const auto& e : v.as_array())
            if (!e.is_number()) pv->type_error(m, "number or array of numbers");
          paper_raw[m] = v;
        } else {
          pv->type_error(m, "number or array of numbers");
        }
      }
    }
    bool uncertain = rv.get_bool("paper_uncertain", false);
    std::string note = rv.get_string("note", "");

    // Cartesian product, first axis slowest.
    size_t combos = 1;
    for (const auto& a : axes) combos *= a.values.size();
    for (size_t c = 0; c < combos; ++c) {
      RowSpec row;
      row.table_id = id;
      row.source_row = ri;
      row.label = label;
      row.scale = options.scale;
      row.loc = rows[ri].loc();
      size_t rem = c;
      std::vector<size_t> pick(axes.size());
      for (size_t ai = axes.size(); ai-- > 0;) {
        pick[ai] = rem % axes[ai].values.size();
        rem /= axes[ai].values.size();
      }
      std::vector<Value> saved;
      for (size_t ai = 0; ai < axes.size(); ++ai) {
        Value& slotv = (*axes[ai].target)[axes[ai].key];
        saved.push_back(slotv);
        Value chosen = axes[ai].values[pick[ai]];
        if (!chosen.loc().known()) chosen.set_loc(slotv.loc());
        slotv = chosen;
        row.sweep.emplace_back(axes[ai].name, chosen.canonical());
      }
      row.suite_params = Params::validate(Value(suite_table), suite.params, rpath);
      for (const auto& d : drafts) {
        Component comp;
        comp.slot = d.slot;
        comp.method = d.method;
        comp.info = d.info;
        comp.params = Params::validate(Value(d.table), d.info->params, d.path);
        Catalog::instance().check(*d.info, comp.params);  // cross-parameter rules, before any row runs
        row.components.push_back(std::move(comp));
      }
      for (size_t ai = 0; ai < axes.size(); ++ai) (*axes[ai].target)[axes[ai].key] = saved[ai];

      row.display = label;
      if (!row.sweep.empty()) {
        std::vector<std::string> kv;
        for (const auto& [k, v] : row.sweep) kv.push_back(k + "=" + v);
        row.display += " [" + join(kv, ", ") + "]";
      }
      for (const auto& [m, v] : paper_raw) {
        double pv = v.is_array() ? v.as_array()[pick[0]].as_float() : v.as_float();
        if (!std::isnan(pv)) row.paper[m] = pv;  // nan: the paper has no number for this cell
      }
      row.paper_uncertain = uncertain;
      row.note = note;
      row.index = t.rows.size();
      t.rows.push_back(std::move(row));
    }
  }

  std::set<std::string> seen;
  for (const auto& r : t.rows) {
    if (!seen.insert(r.display).second)
      throw ConfigError(fmt::format("{}row label '{}' appears twice; labels (with their sweep values) must be unique",
                                    loc_prefix(Value().set_loc(r.loc)), r.display));
  }
  std::vector<std::string> displays;
  for (const auto& r : t.rows) displays.push_back(r.display);

  auto resolve = [&](const ConfigView& cv, const std::string& key, size_t& out) {
    std::string want = cv.get_string(key);
    for (const auto& r : t.rows)
      if (r.display == want) {
        out = r.index;
        return want;
      }
    cv.fail(key, fmt::format("no row is labelled '{}'{}", want, did_you_mean(want, displays)));
  };

  if (const Value* cl = root.find("claims")) {
    if (!cl->is_array()) top.type_error("claims", "array of tables");
    for (size_t ci = 0; ci < cl->as_array().size(); ++ci) {
      const Value& cvv = cl->as_array()[ci];
      if (!cvv.is_table()) throw ConfigError(fmt::format("{}claims[{}]: expected a table", loc_prefix(cvv), ci));
      ConfigView cv(cvv, fmt::format("claims[{}]", ci));
      cv.check_keys({"kind", "metric", "a", "b", "ref", "threshold", "text", "note"});
      ClaimSpec c;
      c.loc = cvv.loc();
      std::string kind = cv.get_string("kind");
      // In ClaimKind's order.
      static const std::vector<std::string> kinds = {"less",        "greater",     "better",  "gap_closed",
                                                     "ratio_below", "ratio_above", "at_most", "at_least"};
      auto kit = std::find(kinds.begin(), kinds.end(), kind);
      if (kit == kinds.end())
        cv.fail("kind", fmt::format("unknown claim kind '{}'{}; kinds: {}", kind, did_you_mean(kind, kinds),
                                    join(kinds, ", ")));
      c.kind = static_cast<ClaimKind>(kit - kinds.begin());
      c.metric = cv.get_string("metric");
      c.a = resolve(cv, "a", c.a_row);
      const bool bound = c.kind == ClaimKind::AtMost || c.kind == ClaimKind::AtLeast;
      if (bound && cv.has("b")) cv.fail("b", fmt::format("a '{}' claim bounds one row (`a`) by `threshold`", kind));
      if (bound) c.b = c.a, c.b_row = c.a_row;
      else c.b = resolve(cv, "b", c.b_row);
      if (c.kind == ClaimKind::GapClosed) c.ref = resolve(cv, "ref", c.ref_row);
      else if (cv.has("ref")) cv.fail("ref", "only gap_closed claims take a reference row");
      bool needs_threshold = c.kind == ClaimKind::GapClosed || c.kind == ClaimKind::RatioBelow ||
                             c.kind == ClaimKind::RatioAbove || bound;
      if (needs_threshold) c.threshold = cv.get_float("threshold");
      else c.threshold = cv.get_float("threshold", 0.0);
      if (c.kind == ClaimKind::Better && t.metric_better(c.metric) == Better::None)
        cv.fail("metric", fmt::format("'better' needs a metric with a direction; suite '{}' gives none for '{}'",
                                      t.suite, c.metric));
      c.text = cv.get_string("text", "");
      c.note = cv.get_string("note", "");
      t.claims.push_back(std::move(c));
    }
  }

  if (const Value* pl = root.find("plots")) {
    if (!pl->is_array()) top.type_error("plots", "array of tables");
    std::set<std::string> names;
    for (size_t pi = 0; pi < pl->as_array().size(); ++pi) {
      const Value& pvv = pl->as_array()[pi];
      if (!pvv.is_table()) throw ConfigError(fmt::format("{}plots[{}]: expected a table", loc_prefix(pvv), pi));
      ConfigView pv(pvv, fmt::format("plots[{}]", pi));
      pv.check_keys({"name", "x", "y", "x_better", "y_better", "log_x", "log_y", "title", "reference", "series", "join",
                     "point_labels"});
      PlotSpec p;
      p.name = pv.get_string("name", "pareto");
      p.x = pv.get_string("x");
      p.y = pv.get_string("y");
      auto dir = [&](const std::string& key, const std::string& metric) {
        if (!pv.has(key)) {
          Better b = t.metric_better(metric);
          if (b == Better::None) pv.fail(key, fmt::format("give a direction for '{}' (lower or higher)", metric));
          return b;
        }
        try {
          return parse_better(pv.get_string(key));
        } catch (const ConfigError& e) {
          pv.fail(key, e.what());
        }
      };
      p.x_better = dir("x_better", p.x);
      p.y_better = dir("y_better", p.y);
      p.log_x = pv.get_bool("log_x", false);
      p.log_y = pv.get_bool("log_y", false);
      p.title = pv.get_string("title", t.title);
      p.reference = pv.get_string_list("reference");
      for (const auto& want : p.reference) {
        const RowSpec* r = t.find_row(want);
        if (!r) pv.fail("reference", fmt::format("no row is labelled '{}'{}", want, did_you_mean(want, displays)));
        p.reference_rows.push_back(r->index);
      }
      p.series = pv.get_string_list("series");
      for (const auto& want : p.series)
        if (std::none_of(t.rows.begin(), t.rows.end(), [&](const RowSpec& r) { return r.label == want; })) {
          std::vector<std::string> labels;
          for (const auto& r : t.rows) labels.push_back(r.label);
          pv.fail("series", fmt::format("no [[rows]] entry is labelled '{}'{}", want, did_you_mean(want, labels)));
        }
      const std::string join = pv.get_string("join", "rows");
      if (join != "rows" && join != "x")
        pv.fail("join", fmt::format("'{}' is neither 'rows' (a series' points joined in row order) nor 'x'", join));
      p.join_by_x = join == "x";
      p.point_labels = pv.get_bool("point_labels", false);
      if (!names.insert(p.name).second) pv.fail("name", fmt::format("two plots are named '{}'", p.name));
      t.plots.push_back(std::move(p));
    }
  }
  return t;
}

const RowSpec* TableSpec::find_row(const std::string& display) const {
  for (const auto& r : rows)
    if (r.display == display) return &r;
  return nullptr;
}

Better TableSpec::metric_better(const std::string& metric) const {
  if (suite_info)
    if (const MetricInfo* m = suite_info->find_metric(metric)) return m->better;
  return Better::None;
}

}  // namespace repro
