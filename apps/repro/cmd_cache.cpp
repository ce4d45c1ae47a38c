// repro cache list|prune  and  repro verify <paper>/<table>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>

#include <fmt/format.h>

#include "apps/repro/cli.h"
#include "core/disk_cache.h"
#include "core/store.h"

namespace repro::cli {

namespace fs = std::filesystem;

namespace {

fs::path cache_root(const std::string& cache_dir, const std::string& results_dir) {
  if (!cache_dir.empty()) return cache_dir;
  return (results_dir.empty() ? project_root() / "results" : fs::path(results_dir)) / "cache";
}

std::string age_text(fs::file_time_type t) {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(fs::file_time_type::clock::now() - t).count();
  if (s < 120) return fmt::format("{}s", s);
  if (s < 7200) return fmt::format("{}m", s / 60);
  if (s < 2 * 86400) return fmt::format("{}h", s / 3600);
  return fmt::format("{}d", s / 86400);
}

}  // namespace

int cmd_cache(int argc, char** argv) {
  std::string action, cache_dir, results_dir, max_size, older_than, kind;
  bool all = false, dry_run = false;
  po::options_description desc("repro cache options");
  desc.add_options()
      ("action", po::value(&action)->required(), "list (sizes per kind) or prune (remove least recently used files)")
      ("cache-dir", po::value(&cache_dir), "cache folder (default: <results>/cache)")
      ("results-dir", po::value(&results_dir), "results folder (default: <project>/results)")
      ("all", po::bool_switch(&all), "list: every file, least recently used first")
      ("max-size", po::value(&max_size), "prune: evict least recently used files until the cache is under SIZE (e.g. 2G)")
      ("older-than", po::value(&older_than), "prune: evict files unused for longer than AGE (e.g. 7d, 12h, 30m)")
      ("kind", po::value(&kind), "only this kind: hessians, tokens or mask_reference")
      ("dry-run", po::bool_switch(&dry_run), "prune: say what would be removed, remove nothing");
  po::positional_options_description pos;
  pos.add("action", 1);
  po::variables_map vm;
  if (!parse(argc, argv, desc, pos, vm, "repro cache list|prune [options]")) return 0;
  const fs::path root = cache_root(cache_dir, results_dir);
  if (!kind.empty() && std::find(cache_kinds().begin(), cache_kinds().end(), kind) == cache_kinds().end())
    throw UsageError(fmt::format("--kind must be one of hessians, tokens, mask_reference, not '{}'", kind));

  if (action == "list") {
    auto entries = list_cache(root);
    std::map<std::string, std::pair<size_t, uint64_t>> per_kind;
    for (const auto& e : entries)
      if (kind.empty() || e.kind == kind) per_kind[e.kind].first += 1, per_kind[e.kind].second += e.bytes;
    auto cap = default_cache_cap();
    std::cout << fmt::format("cache {}: {} in {} files (cap {}{})\n", root.string(), format_bytes(total_bytes(entries)),
                             entries.size(), cap ? format_bytes(*cap) : "none",
                             std::getenv("REPRO_CACHE_MAX_SIZE") ? ", from REPRO_CACHE_MAX_SIZE" : "");
    for (const auto& [k, v] : per_kind) std::cout << fmt::format("  {:<15} {:>6} files {:>11}\n", k, v.first, format_bytes(v.second));
    if (all)
      for (const auto& e : entries)
        if (kind.empty() || e.kind == kind)
          std::cout << fmt::format("  {:>11}  used {:>4} ago  {}\n", format_bytes(e.bytes), age_text(e.last_used),
                                   fs::relative(e.path, root).string());
    return 0;
  }
  if (action == "prune") {
    PruneOptions o;
    if (vm.count("max-size")) {
      o.max_bytes = parse_size(max_size);
      if (!o.max_bytes) throw UsageError(fmt::format("--max-size '{}' is not a size (e.g. 500M, 10G, 1.5GiB)", max_size));
    }
    if (vm.count("older-than")) {
      o.older_than = parse_age(older_than);
      if (!o.older_than) throw UsageError(fmt::format("--older-than '{}' is not an age (e.g. 30m, 12h, 7d, 2w)", older_than));
    }
    if (!o.max_bytes && !o.older_than)
      throw UsageError("prune needs --max-size SIZE and/or --older-than AGE (--max-size 0 empties the cache)");
    if (!kind.empty()) o.kind = kind;
    o.dry_run = dry_run;
    auto r = prune_cache(root, o);
    std::cout << fmt::format("{} {} files ({}); {} left in {}\n", dry_run ? "would remove" : "removed", r.removed,
                             format_bytes(r.freed_bytes), format_bytes(r.remaining_bytes), root.string());
    return 0;
  }
  throw UsageError(fmt::format("unknown action '{}': use list or prune", action));
}

int cmd_verify(int argc, char** argv) {
  CommonOptions common;
  std::string table_name;
  po::options_description desc("repro verify options");
  desc.add_options()("table", po::value(&table_name)->required(), "<paper>/<table>");
  add_common_options(desc, common);
  po::positional_options_description pos;
  pos.add("table", 1);
  po::variables_map vm;
  if (!parse(argc, argv, desc, pos, vm, "repro verify <paper>/<table> [options]")) return 0;
  std::string id;
  resolve_table(table_name, &id);
  ResultStore store(results_root(common) / "runs");
  StoreCheck c = store.verify(id);
  std::cout << fmt::format("{}: {} records ({} ok, {} errors), {} journal lines, {} leftover temporary files\n", id,
                           c.records, c.ok, c.errors, c.journal_lines, c.leftovers.size());
  for (const auto& p : c.problems) std::cout << "  problem: " << p << "\n";
  for (const auto& k : c.computed_twice) std::cout << "  computed twice: " << k << "\n";
  std::cout << (c.clean() ? "verify: clean\n" : "verify: PROBLEMS found\n");
  return c.clean() ? 0 : 3;
}

}  // namespace repro::cli
