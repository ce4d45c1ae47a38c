// Encoding speed of ReproBench's tokenizer.json tokenizers on the embedded test split, for every
// tokenizer `make golden` fetched (data/tokenizers/golden/index.json): the whole split as one
// string (what perplexity evaluation does) and line by line, plus the time to load each file.
// scripts/golden/bench_hf_tokenizers.js measures Hugging Face's library the same way.
//   bench_tokenizers --benchmark_filter=whole/          (or: repro bench tokenizers ...)
//   REPRO_DATA_DIR=/path/to/data bench_tokenizers       (default: <source tree>/data)
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "models/bpe_tokenizer.h"

namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path data_dir() {
  const char* env = std::getenv("REPRO_DATA_DIR");
  return env ? fs::path(env) : fs::path(REPRO_SOURCE_DIR) / "data";
}

const std::string& split_text() {
  static const std::string text = read_file(data_dir() / "embedded" / "test.txt");
  return text;
}

const std::vector<std::string>& split_lines() {
  static const std::vector<std::string> lines = [] {
    std::vector<std::string> out;
    std::istringstream in(split_text());
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }();
  return lines;
}

std::map<std::string, std::unique_ptr<repro::BpeTokenizer>>& loaded() {
  static std::map<std::string, std::unique_ptr<repro::BpeTokenizer>> m;
  return m;
}

void load_bench(benchmark::State& state, const fs::path& json) {
  for (auto _ : state) benchmark::DoNotOptimize(repro::BpeTokenizer::load(json));
}

void whole_bench(benchmark::State& state, const std::string& name) {
  const auto& tok = *loaded().at(name);
  size_t ids = 0;
  for (auto _ : state) ids = tok.encode(split_text(), false).size();
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * split_text().size()));
  state.counters["ids"] = static_cast<double>(ids);
}

void lines_bench(benchmark::State& state, const std::string& name) {
  const auto& tok = *loaded().at(name);
  size_t bytes = 0;
  for (const auto& l : split_lines()) bytes += l.size();
  for (auto _ : state) {
    for (const auto& l : split_lines()) benchmark::DoNotOptimize(tok.encode(l, false));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path root = data_dir() / "tokenizers";
  const fs::path index_path = root / "golden" / "index.json";
  if (!fs::exists(index_path) || !fs::exists(data_dir() / "embedded" / "test.txt")) {
    std::cerr << "bench_tokenizers: needs " << index_path.string() << " (make golden) and "
              << (data_dir() / "embedded" / "test.txt").string() << " (scripts/build-corpus.sh)\n";
    return 2;
  }
  const auto index = nlohmann::json::parse(read_file(index_path));
  for (const auto& entry : index.at("tokenizers")) {
    const std::string name = entry.at("name").get<std::string>();
    if (name.find('-') != std::string::npos) continue;  // the derived variants: same speed as their base
    const fs::path json = root / entry.at("dir").get<std::string>() / "tokenizer.json";
    try {
      loaded()[name] = repro::BpeTokenizer::load(json);
    } catch (const std::exception& e) {
      std::cerr << "bench_tokenizers: skipping " << name << ": " << e.what() << "\n";
      continue;
    }
    benchmark::RegisterBenchmark(("load/" + name).c_str(), load_bench, json)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(3);
    benchmark::RegisterBenchmark(("whole/" + name).c_str(), whole_bench, name)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MinTime(2.0);
    benchmark::RegisterBenchmark(("lines/" + name).c_str(), lines_bench, name)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MinTime(2.0);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
