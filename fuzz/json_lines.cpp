// The JSON-lines readers (datasets/json_lines.h) and the records read through them: the zero-shot
// task documents (datasets/zero_shot.h, one builder per task) and C4 shards
// (datasets/text_corpus.h). The first input byte picks the reader, the rest is the file, written
// to a scratch folder (the readers take paths: plain or gzip, detected from the bytes).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "datasets/text_corpus.h"
#include "datasets/zero_shot.h"
#include "fuzz/fuzz_util.h"

namespace {

const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "repro-fuzz-jsonl.XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) std::abort();
    return std::filesystem::path(tmpl);
  }();
  return dir;
}

void write_file(const std::filesystem::path& path, const uint8_t* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const std::vector<std::string> tasks = repro::mc_task_names();
  const size_t pick = data[0] % (tasks.size() + 1);
  const std::filesystem::path& dir = scratch_dir();
  repro::fuzz::expect_clean([&] {
    if (pick < tasks.size()) {
      const std::filesystem::path path = dir / (tasks[pick] + ".jsonl");
      write_file(path, data + 1, size - 1);
      for (const repro::McRequest& r : repro::load_mc_task(tasks[pick], path)) {
        REPRO_FUZZ_CHECK(r.num_choices() > 0 && r.gold >= 0 && static_cast<size_t>(r.gold) < r.num_choices());
        REPRO_FUZZ_CHECK(r.contexts.size() == 1 || r.contexts.size() == r.num_choices());
        REPRO_FUZZ_CHECK(r.continuations.size() == 1 || r.continuations.size() == r.num_choices());
      }
    } else {
      write_file(dir / "c4-train.00000-of-01024.jsonl", data + 1, size - 1);
      (void)repro::load_c4_documents(dir, "train");
    }
  });
  return 0;
}
