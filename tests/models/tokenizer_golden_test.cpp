// Token ids of real tokenizer.json files (Llama-3, Llama-3.1, Qwen3, Llama-2, Gemma-3 and variants)
// against Hugging Face's own tokenizers library. `make golden` (scripts/golden/fetch_tokenizers.sh)
// fetches the files and writes HF's ids for tests/fixtures/tokenizer_texts.json into
// data/tokenizers/golden/; without them these tests WARN with that command and pass.
//
// [golden]: every committed text, with and without special tokens, and decode() of the ids.
// [golden][slow]: the embedded test split, line by line and as one string (a few seconds per
// tokenizer; `build/tests/test_models "[golden][slow]"`), printing the match counts.
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/hash.h"
#include "models/tokenizer.h"
#include "tests/models/models_test_util.h"
#include "tests/test_util.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path golden_root() { return repro::test::source_root() / "data" / "tokenizers"; }
fs::path texts_path() { return repro::test::source_root() / "tests" / "fixtures" / "tokenizer_texts.json"; }

// data/tokenizers/golden/index.json, or null (with a WARN saying how to make it).
json golden_index() {
  const fs::path index = golden_root() / "golden" / "index.json";
  if (!fs::exists(index)) {
    WARN("no " << index.string()
               << ": run `make golden` (scripts/golden/fetch_tokenizers.sh) to fetch the "
                  "tokenizers and Hugging Face's golden ids");
    return nullptr;
  }
  return json::parse(repro::test::read_text(index));
}

// One tokenizer per folder for the whole process (Gemma-3's tokenizer.json alone is 33 MB), or
// nullptr after a FAIL_CHECK with the loader's message.
const repro::Tokenizer* tokenizer(const std::string& dir) {
  static std::map<std::string, std::unique_ptr<repro::Tokenizer>> cache;
  auto& slot = cache[dir];
  if (!slot) {
    try {
      slot = repro::Tokenizer::load(golden_root() / dir);
    } catch (const repro::Error& e) {
      FAIL_CHECK("cannot load " << dir << ": " << e.what());
      return nullptr;
    }
  }
  return slot.get();
}

std::string show(const std::vector<int64_t>& ids) {
  std::ostringstream s;
  s << "[";
  for (size_t i = 0; i < ids.size() && i < 40; ++i) s << (i ? "," : "") << ids[i];
  if (ids.size() > 40) s << ",... (" << ids.size() << " ids)";
  return s.str() + "]";
}

}  // namespace

TEST_CASE("token ids match Hugging Face tokenizers on the golden texts", "[models][golden]") {
  const json index = golden_index();
  if (index.is_null()) return;
  const std::string texts_bytes = repro::test::read_text(texts_path());
  if (repro::sha256_hex(texts_bytes) != index.at("texts_sha256").get<std::string>())
    FAIL("tests/fixtures/tokenizer_texts.json changed since the goldens were made: run `make golden`");
  const json texts = json::parse(texts_bytes).at("texts");

  for (const json& entry : index.at("tokenizers")) {
    const std::string name = entry.at("name").get<std::string>();
    const json golden =
        json::parse(repro::test::read_text(golden_root() / "golden" / entry.at("golden").get<std::string>()));
    INFO("tokenizer " << name << " (" << entry.at("dir").get<std::string>() << ")");
    const repro::Tokenizer* tok = tokenizer(entry.at("dir").get<std::string>());
    if (!tok) continue;
    const auto& ids = golden.at("ids");
    const auto& ids_special = golden.at("ids_special");
    const auto& decoded = golden.at("decoded");
    REQUIRE(ids.size() == texts.size());
    int same = 0, same_special = 0, same_decoded = 0;
    for (size_t i = 0; i < texts.size(); ++i) {
      const std::string text = texts[i].at("text").get<std::string>();
      const std::string label = texts[i].at("name").get<std::string>();
      const auto want = ids[i].get<std::vector<int64_t>>();
      const auto want_special = ids_special[i].get<std::vector<int64_t>>();
      const auto got = tok->encode(text, false);
      const auto got_special = tok->encode(text, true);
      const std::string got_decoded = tok->decode(want_special);
      same += got == want;
      same_special += got_special == want_special;
      same_decoded += got_decoded == decoded[i].get<std::string>();
      if (got != want) FAIL_CHECK(label << ": ours " << show(got) << "\n  HF   " << show(want));
      if (got_special != want_special)
        FAIL_CHECK(label << " (special tokens): ours " << show(got_special) << "\n  HF   " << show(want_special));
      if (got_decoded != decoded[i].get<std::string>())
        FAIL_CHECK(label << ": decode gives '" << got_decoded << "', HF '" << decoded[i].get<std::string>() << "'");
    }
    const int n = static_cast<int>(texts.size());
    INFO(name << ": " << same << "/" << n << " texts, " << same_special << "/" << n << " with special tokens, "
              << same_decoded << "/" << n << " decoded");
    CHECK(same + same_special + same_decoded == 3 * n);
  }
}

TEST_CASE("token ids match Hugging Face tokenizers on the embedded test split", "[models][golden][slow]") {
  const json index = golden_index();
  if (index.is_null()) return;
  if (!index.contains("split_sha256")) {
    WARN("the goldens were made without data/embedded/test.txt: run scripts/build-corpus.sh, then `make golden`");
    return;
  }
  const fs::path split_path = repro::test::source_root() / "data" / "embedded" / "test.txt";
  const std::string split = repro::test::read_text(split_path);
  if (repro::sha256_hex(split) != index.at("split_sha256").get<std::string>())
    FAIL(split_path.string() << " changed since the goldens were made: run `make golden`");
  std::vector<std::string> lines;
  for (size_t pos = 0; pos < split.size();) {
    size_t nl = split.find('\n', pos);
    if (nl == std::string::npos) nl = split.size();
    lines.push_back(split.substr(pos, nl - pos));
    pos = nl + 1;
  }
  for (const json& entry : index.at("tokenizers")) {
    const std::string name = entry.at("name").get<std::string>();
    if (!entry.contains("split")) continue;
    INFO("tokenizer " << name);
    const json golden =
        json::parse(repro::test::read_text(golden_root() / "golden" / entry.at("split").get<std::string>()));
    const repro::Tokenizer* tok = tokenizer(entry.at("dir").get<std::string>());
    if (!tok) continue;
    const auto& want_lines = golden.at("lines");
    REQUIRE(want_lines.size() == lines.size());
    size_t same = 0, failed = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < lines.size(); ++i) {
      if (tok->encode(lines[i], false) == want_lines[i].get<std::vector<int64_t>>()) {
        ++same;
      } else if (++failed <= 3) {
        FAIL_CHECK("line " << i + 1 << ": " << lines[i]);
      }
    }
    const auto t1 = std::chrono::steady_clock::now();
    const auto whole = tok->encode(split, false);
    const auto t2 = std::chrono::steady_clock::now();
    const bool whole_same = whole == golden.at("whole").get<std::vector<int64_t>>();
    const double mb = static_cast<double>(split.size()) / 1e6;
    WARN(name << ": " << same << "/" << lines.size() << " lines identical, whole split (" << whole.size() << " ids) "
              << (whole_same ? "identical" : "DIFFERENT") << "; " << mb / std::chrono::duration<double>(t1 - t0).count()
              << " MB/s by line, " << mb / std::chrono::duration<double>(t2 - t1).count() << " MB/s whole");
    CHECK(same == lines.size());
    CHECK(whole_same);
  }
}
