#include "report/markdown.h"

#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/strings.h"
#include "report/text_escape.h"

namespace repro::report {

namespace {

std::string pad(const std::string& text, size_t width) {
  std::string out = text;
  size_t w = display_width(text);
  if (w < width) out.append(width - w, ' ');
  return out;
}

std::string pad_left(const std::string& text, size_t width) {
  size_t w = display_width(text);
  std::string out(w < width ? width - w : 0, ' ');
  out += text;
  return out;
}

// The table with columns padded to equal width; numbers right-aligned.
void write_table(std::string& out, const TableReport& rep) {
  std::vector<Column> cols = report_columns(rep);
  std::vector<std::vector<std::string>> cells;  // [row][col], escaped
  std::vector<std::string> header;
  for (const auto& c : cols) header.push_back(markdown_escape(c.header));
  for (const auto& r : rep.rows) {
    std::vector<std::string> line;
    for (const auto& c : cols) line.push_back(markdown_escape(cell_text(rep, r, c)));
    cells.push_back(std::move(line));
  }
  std::vector<size_t> width(cols.size(), 3);
  for (size_t j = 0; j < cols.size(); ++j) {
    width[j] = std::max(width[j], display_width(header[j]));
    for (const auto& line : cells) width[j] = std::max(width[j], display_width(line[j]));
  }
  auto emit = [&](const std::vector<std::string>& line, bool align_numbers) {
    out += "|";
    for (size_t j = 0; j < cols.size(); ++j) {
      bool right = align_numbers && cols[j].kind != Column::Kind::Label;
      out += ' ';
      out += right ? pad_left(line[j], width[j]) : pad(line[j], width[j]);
      out += " |";
    }
    out += "\n";
  };
  emit(header, false);
  out += "|";
  for (size_t j = 0; j < cols.size(); ++j) {
    bool right = cols[j].kind != Column::Kind::Label;
    out += ' ';
    out.append(right ? width[j] - 1 : width[j], '-');
    out += right ? ": |" : " |";
  }
  out += "\n";
  for (const auto& line : cells) emit(line, true);
}

}  // namespace

std::string render_markdown(const TableReport& rep, const std::vector<std::string>& plot_images) {
  const TableSpec& t = *rep.table;
  std::string out = fmt::format("## {}\n\n", one_line(t.title));
  if (!t.description.empty()) out += one_line(t.description) + "\n\n";

  std::vector<std::string> facts;
  facts.push_back("Scale: " + t.scale);
  std::vector<std::string> models = rep.model_names();
  facts.push_back("model: " + (models.empty() ? std::string("–") : join(models, ", ")));
  if (!t.paper_model.empty()) facts.push_back("paper model: " + t.paper_model);
  if (!t.paper_source.empty()) facts.push_back("source: " + one_line(t.paper_source));
  facts.push_back(fmt::format("seed: {}", rep.seed));
  facts.push_back(fmt::format("rows: {} ok, {} failed, {} not run", rep.count(RowState::Ok),
                              rep.count(RowState::Failed), rep.count(RowState::NotRun)));
  out += join(facts, " · ") + "\n\n";

  write_table(out, rep);
  if (rep.has_uncertain_paper_values())
    out += "\n? marks a paper value that is uncertain (read from a figure, or ambiguous in the paper).\n";
  if (auto counts = rep.repetition_counts(); !counts.empty())
    out += fmt::format("\nmean ± std: over n = {} repetitions with their own seeds; std is the sample standard "
                       "deviation (n − 1 denominator). Claims compare the means.\n",
                       fmt::join(counts, ", "));

  if (rep.count(RowState::Failed) > 0) {
    out += "\n### Failures\n\n";
    for (const auto& r : rep.rows)
      if (r.state == RowState::Failed)
        out += fmt::format("- **{}**: {}: {}{}\n", markdown_escape(r.row->display), r.record->error_type,
                           markdown_escape(r.record->error_message),
                           r.record->error_hint.empty() ? "" : " (hint: " + markdown_escape(r.record->error_hint) + ")");
  }

  if (!rep.claims.empty()) {
    out += "\n### Claims\n\n";
    for (const auto& c : rep.claims) {
      out += "- " + markdown_escape(claim_line(c)) + "\n";
      if (!c.claim.note.empty()) out += "  - note: " + markdown_escape(c.claim.note) + "\n";
    }
  }

  std::set<size_t> noted;
  std::string notes;
  for (const auto& r : rep.rows)
    if (!r.row->note.empty() && noted.insert(r.row->source_row).second)
      notes += fmt::format("- **{}**: {}\n", markdown_escape(r.row->label), markdown_escape(r.row->note));
  if (!notes.empty()) out += "\n### Notes\n\n" + notes;

  if (!plot_images.empty()) {
    out += "\n### Plots\n\n";
    for (const auto& img : plot_images) out += fmt::format("![{}]({})\n", img, img);
  }

  out += "\n### Row specs\n\n<details><summary>The canonical spec of each row</summary>\n\n";
  for (const auto& r : rep.rows)
    out += fmt::format("- {}: {}\n", markdown_escape(r.row->display), markdown_code(r.row->canonical()));
  out += "\n</details>\n";

  if (const Record* newest = rep.newest_record())
    out += fmt::format("\n---\n\nEnvironment (newest record, finished {}): {}\n", newest->finished_at,
                       markdown_escape(environment_line(rep)));
  return out;
}

}  // namespace repro::report
