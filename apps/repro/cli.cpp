#include "apps/repro/cli.h"

#include <algorithm>
#include <iostream>

#include <fmt/format.h>

#include "core/disk_cache.h"
#include "core/error.h"
#include "core/process.h"
#include "core/strings.h"

namespace repro::cli {

namespace fs = std::filesystem;

std::vector<std::string> list_tables() {
  std::vector<std::string> out;
  fs::path dir = project_root() / "paper_configs";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& paper : fs::directory_iterator(dir, ec)) {
    if (!paper.is_directory()) continue;
    for (const auto& f : fs::directory_iterator(paper.path(), ec))
      if (f.path().extension() == ".toml")
        out.push_back(paper.path().filename().string() + "/" + f.path().stem().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

fs::path resolve_table(const std::string& name, std::string* id_out) {
  fs::path direct(name);
  std::error_code ec;
  if (direct.extension() == ".toml") {
    if (!fs::is_regular_file(direct, ec)) throw ConfigError(fmt::format("{}: config file not found", name));
    if (id_out) *id_out = direct.parent_path().filename().string() + "/" + direct.stem().string();
    return direct;
  }
  auto parts = split(name, '/');
  if (parts.size() != 2 || parts[0].empty() || parts[1].empty())
    throw UsageError(fmt::format("table '{}' should be <paper>/<table>, e.g. examples/layer_error", name));
  fs::path p = project_root() / "paper_configs" / parts[0] / (parts[1] + ".toml");
  if (!fs::is_regular_file(p, ec)) {
    auto known = list_tables();
    throw ConfigError(fmt::format("unknown table '{}' (no {}){}; tables: {}", name, p.string(), did_you_mean(name, known),
                                  known.empty() ? "(none)" : join(known, ", ")));
  }
  if (id_out) *id_out = name;
  return p;
}

void add_common_options(po::options_description& desc, CommonOptions& o) {
  desc.add_options()
      ("device", po::value(&o.device)->default_value("cpu"), "cpu, cuda or cuda:N")
      ("dtype", po::value(&o.dtype)->default_value("float32"), "model dtype: float32, bfloat16, float16")
      ("seed", po::value(&o.seed)->default_value(0), "seed of every random choice in the rows")
      ("scale", po::value(&o.scale)->default_value("embedded"), "embedded (zoo model, embedded data) or paper")
      ("model", po::value(&o.model), "model checkpoint folder (or zoo:<name>) replacing the table's model")
      ("data-dir", po::value(&o.data_dir), "folder with the paper datasets (wikitext2, c4, ...)")
      ("results-dir", po::value(&o.results_dir), "results folder (default: <project>/results)")
      ("cache-dir", po::value(&o.cache_dir), "cache folder for Hessians etc. (default: <results>/cache)")
      ("threads", po::value(&o.threads)->default_value(0), "CPU threads (0: libtorch default)")
      ("log-level", po::value(&o.log_level)->default_value("info"), "trace, debug, info, warn, error")
      ("no-progress", po::bool_switch(&o.no_progress), "no progress bars or lines");
}

fs::path results_root(const CommonOptions& o) {
  return o.results_dir.empty() ? project_root() / "results" : fs::path(o.results_dir);
}

RunOptions make_run_options(const CommonOptions& o) {
  if (o.scale != "embedded" && o.scale != "paper")
    throw UsageError(fmt::format("--scale must be embedded or paper, not '{}'", o.scale));
  RunOptions r;
  r.device = o.device;
  r.dtype = o.dtype;
  r.seed = o.seed;
  r.progress = !o.no_progress;
  r.log_level = o.log_level;
  r.data_dir = o.data_dir;
  r.cache_dir = o.cache_dir.empty() ? results_root(o) / "cache" : fs::path(o.cache_dir);
  return r;
}

void configure_process(const CommonOptions& o) {
  ProcessOptions p;
  p.threads = o.threads;
  p.log_level = o.log_level;
  repro::configure_process(p);
}

LoadOptions make_load_options(const CommonOptions& o) {
  LoadOptions l;
  l.scale = o.scale;
  if (!o.model.empty()) l.model = o.model;
  return l;
}

std::vector<std::string> forwarded_options(const CommonOptions& o, int threads) {
  auto absolute = [](const std::string& p) { return fs::absolute(p).lexically_normal().string(); };
  std::vector<std::string> out = {"--device", o.device, "--dtype", o.dtype, "--seed", std::to_string(o.seed),
                                  "--scale", o.scale};
  if (!o.model.empty()) out.insert(out.end(), {"--model", starts_with(o.model, "zoo:") ? o.model : absolute(o.model)});
  if (!o.data_dir.empty()) out.insert(out.end(), {"--data-dir", absolute(o.data_dir)});
  out.insert(out.end(), {"--results-dir", absolute(results_root(o).string())});
  if (!o.cache_dir.empty()) out.insert(out.end(), {"--cache-dir", absolute(o.cache_dir)});
  if (o.threads > 0) threads = o.threads;
  if (threads > 0) out.insert(out.end(), {"--threads", std::to_string(threads)});
  out.insert(out.end(), {"--log-level", o.log_level, "--no-progress"});
  return out;
}

void print_cache_summary(const CommonOptions& o) {
  const auto cache = make_run_options(o).cache_dir;
  const auto cached = list_cache(cache);
  if (cached.empty()) return;
  const auto cap = default_cache_cap();
  std::cout << fmt::format("cache: {} in {} files under {} (cap {}; see repro cache)\n", format_bytes(total_bytes(cached)),
                           cached.size(), cache.string(), cap ? format_bytes(*cap) : "none");
}

bool parse(int argc, char** argv, po::options_description& desc, po::positional_options_description& pos,
           po::variables_map& vm, const std::string& usage) {
  desc.add_options()("help,h", po::bool_switch(), "show this help");
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).positional(pos).run(), vm);
    // --help before notify(): notify() fails on required options the user did not give.
    if (vm.count("help") && vm["help"].as<bool>()) {
      std::cout << "usage: " << usage << "\n\n" << desc << "\n";
      return false;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(std::string(e.what()) + " (see --help)");
  }
  return true;
}

}  // namespace repro::cli
