// Text corpora: joining conventions (GPTQ / SparseGPT datautils on the HF datasets), C4 JSON lines
// (plain and gzip), lookup by name, and the errors promised for missing or malformed files.

#include <zlib.h>

#include <string>

#include "core/error.h"
#include "core/hash.h"
#include "datasets/json_lines.h"
#include "datasets/text_corpus.h"
#include "datasets/text_datasets.h"
#include "tests/catch.h"
#include "tests/test_util.h"

namespace {

using repro::test::TempDir;
using repro::test::write_text;

void write_gz(const std::filesystem::path& path, const std::string& text) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, text.data(), static_cast<unsigned>(text.size())) == static_cast<int>(text.size()));
  REQUIRE(gzclose(f) == Z_OK);
}

template <class Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const repro::DataError& e) {
    return e.what();
  }
  return "<no DataError>";
}

const char* kC4Lines =
    "{\"text\": \"First doc.\", \"url\": \"http://a\"}\n"
    "{\"url\": \"http://b\", \"text\": \"Second \\\"quoted\\\" doc\\nwith a newline.\"}\n"
    "\n"
    "{\"text\": \"Third \\u00e9t\\u00e9.\", \"timestamp\": \"2019-04-25T12:57:54Z\"}\n";

}  // namespace

TEST_CASE("wikitext2 joins the HF rows with blank lines", "[datasets]") {
  // HF wikitext rows: each line with its "\n", or "" for a whitespace-only line; "\r\n" reads as "\n".
  std::string raw = " \n = Title = \n \n Some text , here . \r\n\t\n Last line";
  CHECK(repro::join_wikitext_raw(raw) == "\n\n = Title = \n\n\n\n\n Some text , here . \n\n\n\n\n Last line");

  TempDir dir("wt2");
  write_text(dir / "wiki.test.raw", raw);
  write_text(dir / "wiki.valid.raw", " = V = \n");
  auto test = repro::load_wikitext2(dir.path(), "test");
  CHECK(test.name == "wikitext2:test");
  CHECK(test.text == repro::join_wikitext_raw(raw));
  CHECK(test.sha256 == repro::sha256_hex(test.text));
  CHECK(test.source == dir / "wiki.test.raw");
  CHECK(repro::load_wikitext2(dir.path(), "valid").text == " = V = \n");
  CHECK(repro::load_wikitext2(dir.path(), "validation").name == "wikitext2:validation");
}

TEST_CASE("ptb joins stripped lines with single spaces", "[datasets]") {
  std::string raw = " aer banknote \n pierre <unk> N years old \r\n\n last";
  CHECK(repro::join_ptb(raw) == "aer banknote pierre <unk> N years old  last");
  TempDir dir("ptb");
  write_text(dir / "ptb.test.txt", raw);
  auto split = repro::load_ptb(dir.path(), "test");
  CHECK(split.text == "aer banknote pierre <unk> N years old  last");
  CHECK(split.name == "ptb:test");
}

TEST_CASE("embedded splits are the files as they are", "[datasets]") {
  TempDir dir("emb");
  write_text(dir / "embedded" / "train.txt", "line one\nline two\n");
  write_text(dir / "embedded" / "valid.txt", "v\n");
  auto train = repro::load_text_split("embedded", dir.path(), "train");
  CHECK(train.text == "line one\nline two\n");
  CHECK(train.name == "embedded:train");
  CHECK(train.source == dir / "embedded" / "train.txt");
  CHECK(repro::load_text_split("embedded", dir.path(), "val").text == "v\n");
  // The folder itself is accepted when it holds the files.
  CHECK(repro::load_text_split("embedded", dir / "embedded", "train").text == train.text);
}

TEST_CASE("c4 validation joins the first documents with spaces, plain or gzip", "[datasets]") {
  TempDir dir("c4");
  const std::string joined2 = "First doc. Second \"quoted\" doc\nwith a newline.";
  const std::string joined3 = joined2 + " Third \xC3\xA9t\xC3\xA9.";

  write_text(dir / "plain" / "c4-validation.00000-of-00008.json", kC4Lines);
  CHECK(repro::load_c4_validation(dir / "plain", 2).text == joined2);
  CHECK(repro::load_c4_validation(dir / "plain").text == joined3);

  std::filesystem::create_directories(dir / "gz" / "c4");
  write_gz(dir / "gz" / "c4" / "c4-validation.00000-of-00008.json.gz", kC4Lines);
  auto split = repro::load_text_split("c4", dir / "gz", "validation");
  CHECK(split.text == joined3);
  CHECK(split.name == "c4:validation");
  CHECK(split.source == dir / "gz" / "c4" / "c4-validation.00000-of-00008.json.gz");

  write_gz(dir / "gz" / "c4" / "c4-train.00000-of-01024.json.gz", kC4Lines);
  auto docs = repro::load_c4_documents(dir / "gz" / "c4", "train");
  REQUIRE(docs.documents.size() == 3);
  CHECK(docs.documents[1] == "Second \"quoted\" doc\nwith a newline.");
  CHECK(docs.name == "c4:train");
  CHECK_THROWS_AS(repro::load_text_split("c4", dir / "gz", "train"), repro::NotSupported);
}

TEST_CASE("malformed JSON lines give one DataError naming file:line", "[datasets]") {
  TempDir dir("c4bad");
  auto file = dir / "c4-validation.00000-of-00008.json";
  write_text(file, "{\"text\": \"ok\"}\n\n{\"text\": \"broken\"\n{\"text\": \"later\"}\n");
  std::string msg = error_of([&] { repro::load_c4_validation(dir.path()); });
  CHECK(msg.find(file.string() + ":3: not valid JSON") == 0);

  write_text(file, "{\"text\": \"ok\"}\n{\"body\": \"no text field\"}\n");
  msg = error_of([&] { repro::load_c4_validation(dir.path()); });
  CHECK(msg.find(file.string() + ":2: expected an object with a string field \"text\"") == 0);

  // Only the first document is needed: a later bad line is never read.
  write_text(file, "{\"text\": \"ok\"}\nnot json\n");
  CHECK(repro::load_c4_validation(dir.path(), 1).text == "ok");

  // A truncated gzip stream is an error, not a silently shorter corpus.
  auto gz = dir / "t.jsonl.gz";
  write_gz(gz, std::string(kC4Lines) + std::string(5000, ' '));
  auto bytes = repro::test::read_text(gz);
  write_text(gz, bytes.substr(0, bytes.size() - 12));
  msg = error_of([&] { repro::for_each_json_line(gz, [](const auto&, size_t) { return true; }); });
  CHECK(msg.find(gz.string() + ": cannot read") == 0);
}

TEST_CASE("missing files name the path, the file expected and how to get it", "[datasets]") {
  TempDir dir("missing");
  std::string msg = error_of([&] { repro::load_text_split("embedded", dir.path(), "test"); });
  CHECK(msg.find((dir / "embedded" / "test.txt").string()) != std::string::npos);
  CHECK(msg.find("run scripts/build-corpus.sh") != std::string::npos);

  msg = error_of([&] { repro::load_embedded(dir.path(), "train"); });
  CHECK(msg.find((dir / "train.txt").string() + ": file not found") == 0);
  CHECK(msg.find("run scripts/build-corpus.sh") != std::string::npos);

  msg = error_of([&] { repro::load_text_split("wikitext2", dir.path(), "test"); });
  CHECK(msg.find("wiki.test.raw") != std::string::npos);
  CHECK(msg.find("wikitext-2-raw-v1.zip") != std::string::npos);

  msg = error_of([&] { repro::load_text_split("ptb", dir.path(), "validation"); });
  CHECK(msg.find("ptb.valid.txt") != std::string::npos);

  msg = error_of([&] { repro::load_c4_documents(dir.path(), "train"); });
  CHECK(msg.find("c4-train.00000-of-01024.json.gz") != std::string::npos);
  CHECK(msg.find("allenai/c4") != std::string::npos);
}

TEST_CASE("text datasets are looked up by name", "[datasets]") {
  CHECK(repro::text_dataset_names() == std::vector<std::string>{"wikitext2", "c4", "ptb", "embedded"});
  CHECK(repro::text_dataset_info("c4").eval_max_windows == 256);
  CHECK(repro::text_dataset_info("c4").calibration_per_document);
  CHECK(repro::text_dataset_info("wikitext2").eval_split == "test");
  CHECK_FALSE(repro::text_dataset_info("embedded").eval_max_windows.has_value());
  try {
    repro::text_dataset_info("wikitext");
    FAIL("no ConfigError");
  } catch (const repro::ConfigError& e) {
    CHECK(std::string(e.what()).find("did you mean 'wikitext2'") != std::string::npos);
  }
  CHECK_THROWS_AS(repro::canonical_split("dev"), repro::ConfigError);
}

TEST_CASE("the built embedded corpus loads and matches its MANIFEST", "[datasets][slow]") {
  // Needs scripts/build-corpus.sh to have run; passes vacuously (with a warning) otherwise.
  auto data = repro::test::source_root() / "data";
  if (!std::filesystem::exists(data / "embedded" / "MANIFEST")) {
    WARN("data/embedded not built; run scripts/build-corpus.sh");
    return;
  }
  std::string manifest = repro::test::read_text(data / "embedded" / "MANIFEST");
  for (const char* split : {"train", "validation", "test"}) {
    auto s = repro::load_text_split("embedded", data, split);
    CHECK(manifest.find(s.sha256) != std::string::npos);
    CHECK(s.text.size() > 1000000);
  }
}

// The bug fuzz/hf_config and fuzz/safetensors found (fuzz/README.md), in the JSON-lines reader: a
// number beyond the range of double made nlohmann::json throw out_of_range.406, which escaped a
// reader that caught only parse_error.
TEST_CASE("fuzz: a JSON line with a number beyond double gives a DataError naming file:line", "[datasets]") {
  TempDir dir("c4big");
  auto file = dir / "c4-validation.00000-of-00008.json";
  write_text(file, "{\"text\": \"ok\"}\n{\"text\": \"x\", \"n\": 1e400}\n");
  CHECK(error_of([&] { repro::load_c4_validation(dir.path()); }) ==
        file.string() + ":2: not valid JSON (number overflow parsing '1e400')");
}
