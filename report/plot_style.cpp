#include "report/plot_style.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <set>

#include "core/config.h"
#include "core/error.h"

namespace fs = std::filesystem;

namespace repro::report {

namespace {

// matplotlib's tab10 with black for its grey (grey is for reference lines and the front).
constexpr std::array<const char*, 10> kColours = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                                  "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#000000"};
// gnuplot point types: (filled, open) circle, square, triangle, diamond, inverted triangle, pentagon.
constexpr std::array<std::pair<int, int>, 6> kMarkers = {{{7, 6}, {5, 4}, {9, 8}, {13, 12}, {11, 10}, {15, 14}}};

// `labels` less those that every one of `references` (one list per plot) names: rows that are only
// ever reference lines need no series style. No plots: every label.
std::vector<std::string> series_labels(const std::vector<std::string>& labels,
                                       const std::vector<std::vector<std::string>>& references) {
  std::vector<std::string> out;
  for (const auto& l : labels) {
    bool always_reference = !references.empty();
    for (const auto& refs : references)
      always_reference = always_reference && std::find(refs.begin(), refs.end(), l) != refs.end();
    if (!always_reference) out.push_back(l);
  }
  return out;
}

// The same from a table file read as TOML only (ill-formed parts are skipped: not our errors).
std::vector<std::string> series_labels(const Value& root) {
  std::vector<std::string> labels;
  if (const Value* rows = root.find("rows"); rows && rows->is_array())
    for (const auto& r : rows->as_array())
      if (r.is_table())
        if (const Value* l = r.find("label"); l && l->is_string()) labels.push_back(l->as_string());
  std::vector<std::vector<std::string>> references;
  if (const Value* plots = root.find("plots"); plots && plots->is_array())
    for (const auto& p : plots->as_array()) {
      references.emplace_back();
      if (!p.is_table()) continue;
      if (const Value* refs = p.find("reference")) {
        if (refs->is_string()) references.back().push_back(refs->as_string());
        if (refs->is_array())
          for (const auto& r : refs->as_array())
            if (r.is_string()) references.back().push_back(r.as_string());
      }
    }
  return series_labels(labels, references);
}

}  // namespace

std::map<std::string, SeriesStyle> assign_styles(const std::vector<std::vector<std::string>>& tables) {
  std::map<std::string, std::set<std::string>> neighbours;  // sorted: the order of assignment
  for (const auto& t : tables)
    for (const auto& a : t) {
      auto& n = neighbours[a];
      for (const auto& b : t)
        if (b != a) n.insert(b);
    }
  std::map<std::string, size_t> colour_of, marker_of;
  std::map<size_t, std::set<size_t>> markers_of_colour;
  std::map<std::string, SeriesStyle> out;
  for (const auto& [label, near] : neighbours) {
    std::set<size_t> colours_near, markers_near;
    for (const auto& n : near) {
      if (auto it = colour_of.find(n); it != colour_of.end()) colours_near.insert(it->second);
      if (auto it = marker_of.find(n); it != marker_of.end()) markers_near.insert(it->second);
    }
    size_t c = 0;
    while (colours_near.count(c)) ++c;
    // A marker that neither a label of its colour nor, if possible, one of its tables has.
    std::set<size_t>& same_colour = markers_of_colour[c];
    size_t m = kMarkers.size();
    for (size_t k = 0; k < kMarkers.size() && m == kMarkers.size(); ++k)
      if (!same_colour.count(k) && !markers_near.count(k)) m = k;
    for (size_t k = 0; k < kMarkers.size() && m == kMarkers.size(); ++k)
      if (!same_colour.count(k)) m = k;
    size_t dash = c / kColours.size();
    if (m == kMarkers.size()) {  // six labels of this colour already: the dash type tells them apart
      const size_t rank = same_colour.size();
      m = rank % kMarkers.size();
      dash += rank / kMarkers.size();
    }
    same_colour.insert(m);
    colour_of[label] = c;
    marker_of[label] = m;
    SeriesStyle s;
    s.number = static_cast<int>(out.size()) + 1;
    s.colour = kColours[c % kColours.size()];
    s.point = kMarkers[m].first;
    s.hollow = kMarkers[m].second;
    s.dash = 1 + static_cast<int>(dash % 5);
    out[label] = s;
  }
  return out;
}

std::vector<std::vector<std::string>> paper_label_sets(const TableSpec& table) {
  std::vector<std::string> labels;
  for (const auto& r : table.rows)
    if (std::find(labels.begin(), labels.end(), r.label) == labels.end()) labels.push_back(r.label);
  std::vector<std::vector<std::string>> references;
  for (const auto& p : table.plots) references.push_back(p.reference);
  std::vector<std::vector<std::string>> out = {series_labels(labels, references)};
  if (table.source.empty()) return out;
  std::error_code ec;
  std::vector<fs::path> siblings;
  for (const auto& f : fs::directory_iterator(table.source.parent_path(), ec))
    if (f.path().extension() == ".toml" && !fs::equivalent(f.path(), table.source, ec)) siblings.push_back(f.path());
  std::sort(siblings.begin(), siblings.end());
  for (const auto& f : siblings) {
    try {
      out.push_back(series_labels(load_toml_file(f)));
    } catch (const Error&) {
      // Not this table's fault; that table's own reproduce names the problem.
    }
  }
  return out;
}

std::map<std::string, SeriesStyle> paper_styles(const TableSpec& table) { return assign_styles(paper_label_sets(table)); }

}  // namespace repro::report
