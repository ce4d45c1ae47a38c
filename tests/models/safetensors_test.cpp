#include "models/safetensors.h"

#include <ATen/ATen.h>

#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "models/checkpoint.h"
#include "tests/catch.h"
#include "tests/models/models_test_util.h"
#include "tests/test_util.h"

using repro::CheckpointReader;
using repro::ModelError;
using repro::SafetensorsFile;
using repro::test::TempDir;

namespace {

// A file made of an explicit header length, header text and `data_bytes` zero bytes.
void write_raw(const std::filesystem::path& path, uint64_t header_len, const std::string& header, size_t data_bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(&header_len), 8);
  out << header;
  out << std::string(data_bytes, '\0');
}

void write_with_header(const std::filesystem::path& path, const std::string& header, size_t data_bytes) {
  write_raw(path, header.size(), header, data_bytes);
}

// The ModelError message of opening `path` ("" when it opens).
std::string open_error(const std::filesystem::path& path) {
  try {
    SafetensorsFile f(path);
  } catch (const ModelError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("safetensors round trip for every dtype, with metadata", "[models][safetensors]") {
  TempDir dir("st");
  const auto path = dir / "all.safetensors";
  at::Tensor base = at::arange(-6, 6, at::kDouble).reshape({3, 4}) * 1.25;
  std::vector<std::pair<std::string, at::Tensor>> tensors = {
      {"f64", base},
      {"f32", base.to(at::kFloat)},
      {"f16", base.to(at::kHalf)},
      {"bf16", base.to(at::kBFloat16)},
      {"i64", at::arange(-6, 6, at::kLong).reshape({2, 6}) * int64_t{1000000000000}},
      {"i32", at::arange(-6, 6, at::kInt).reshape({12}) * 100000},
      {"i16", at::arange(-6, 6, at::kShort).reshape({4, 3}) * 1000},
      {"i8", at::arange(-6, 6, at::kChar).reshape({6, 2})},
      {"u8", at::arange(0, 12, at::kByte).reshape({1, 12}) * 20},
      {"bool", at::arange(0, 12, at::kLong).remainder(3).eq(0).reshape({3, 2, 2})},
      {"scalar", at::scalar_tensor(7.5, at::kFloat)},
      {"empty", at::zeros({0, 5}, at::kFloat)},
      {"strided", base.to(at::kFloat).t()},  // non-contiguous input is written in logical order
  };
  repro::save_safetensors(path, tensors, {{"format", "pt"}, {"note", "round trip"}});

  SafetensorsFile f(path);
  CHECK(f.metadata().at("format") == "pt");
  CHECK(f.metadata().at("note") == "round trip");
  CHECK(f.names().size() == tensors.size());
  for (const auto& [name, t] : tensors) {
    INFO(name);
    at::Tensor got = f.get(name);
    CHECK(got.scalar_type() == t.scalar_type());
    CHECK(got.sizes() == t.sizes());
    CHECK(at::equal(got, t.contiguous()));
  }
  // The writer leaves no temp files behind.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) files += e.is_regular_file();
  CHECK(files == 1);
}

TEST_CASE("safetensors data is 8-byte aligned and the header is padded", "[models][safetensors]") {
  TempDir dir("st");
  const auto path = dir / "a.safetensors";
  repro::save_safetensors(path, {{"b", at::ones({3}, at::kByte)}, {"a", at::ones({5}, at::kDouble)}});
  SafetensorsFile f(path);
  CHECK(f.info("a").begin == 0);  // the 8-byte dtype goes first
  CHECK(f.info("b").begin == 40);
  std::ifstream in(path, std::ios::binary);
  uint64_t n = 0;
  in.read(reinterpret_cast<char*>(&n), 8);
  CHECK(n % 8 == 0);
}

TEST_CASE("malformed safetensors files give one ModelError naming the problem", "[models][safetensors]") {
  TempDir dir("st");
  const auto path = dir / "bad.safetensors";
  const std::string file = path.string();

  SECTION("shorter than 8 bytes") {
    std::ofstream(path, std::ios::binary) << "abcde";
    const std::string msg = open_error(path);
    CHECK_CONTAINS(msg, file);
    CHECK_CONTAINS(msg, "shorter than the 8-byte");
  }
  SECTION("absurd header length") {
    write_raw(path, 200ull << 20, "{}", 0);
    CHECK_CONTAINS(open_error(path), "above the 100 MB limit");
  }
  SECTION("header length beyond the file") {
    write_raw(path, 1000, "{}", 0);
    CHECK_CONTAINS(open_error(path), "header length 1000 exceeds the file size 10");
  }
  SECTION("malformed JSON") {
    write_with_header(path, R"({"w": {"dtype": "F32", )", 0);
    CHECK_CONTAINS(open_error(path), file);
    CHECK_CONTAINS(open_error(path), "not valid JSON");
  }
  SECTION("unknown dtype") {
    write_with_header(path, R"({"w": {"dtype": "F8", "shape": [2], "data_offsets": [0, 2]}})", 2);
    CHECK_CONTAINS(open_error(path), "tensor 'w'");
    CHECK_CONTAINS(open_error(path), "unknown dtype 'F8'");
  }
  SECTION("shape and byte length disagree") {
    write_with_header(path, R"({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]}})", 20);
    CHECK_CONTAINS(open_error(path), "tensor 'w'");
    CHECK_CONTAINS(open_error(path), "shape [2, 3] of F32 needs 24 bytes but data_offsets [0, 20) hold 20");
  }
  SECTION("overflowing shape") {
    write_with_header(path, R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 0]}})", 0);
    CHECK_CONTAINS(open_error(path), "tensor 'w'");
    CHECK_CONTAINS(open_error(path), "needs too many bytes");
  }
  SECTION("offsets past the end of the data") {
    write_with_header(path, R"({"w": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}})", 16);
    CHECK_CONTAINS(open_error(path), "tensor 'w'");
    CHECK_CONTAINS(open_error(path), "data_offsets [8, 24) exceed the data section of 16 bytes");
  }
  SECTION("truncated file") {
    repro::save_safetensors(path, {{"w", at::ones({64}, at::kFloat)}});
    std::filesystem::resize_file(path, std::filesystem::file_size(path) - 10);
    CHECK_CONTAINS(open_error(path), "tensor 'w'");
    CHECK_CONTAINS(open_error(path), "exceed the data section");
  }
  SECTION("overlapping tensors") {
    write_with_header(path,
                      R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},)"
                      R"( "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}})",
                      24);
    CHECK_CONTAINS(open_error(path), "tensors 'a' [0, 16) and 'b' [8, 24) overlap");
  }
  SECTION("bad metadata") {
    write_with_header(path, R"({"__metadata__": {"k": 3}})", 0);
    CHECK_CONTAINS(open_error(path), "__metadata__['k'] is not a string");
  }
  SECTION("negative shape") {
    write_with_header(path, R"({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 0]}})", 0);
    CHECK_CONTAINS(open_error(path), "tensor 'w'");
    CHECK_CONTAINS(open_error(path), "'shape'");
  }
}

TEST_CASE("a valid hand-written file with gaps and empty tensors loads", "[models][safetensors]") {
  TempDir dir("st");
  const auto path = dir / "ok.safetensors";
  write_with_header(path,
                    R"({"__metadata__": {"format": "pt"}, "e": {"dtype": "BF16", "shape": [0, 3], "data_offsets": [0, 0]},)"
                    R"( "w": {"dtype": "I16", "shape": [2], "data_offsets": [4, 8]}})",
                    8);
  SafetensorsFile f(path);
  CHECK(f.get("e").sizes() == at::IntArrayRef({0, 3}));
  CHECK(at::equal(f.get("w"), at::zeros({2}, at::kShort)));
  CHECK_CONTAINS(repro::test::error_of<ModelError>([&] { f.get("nope"); }), "no tensor 'nope'");
}

TEST_CASE("sharded checkpoints load through model.safetensors.index.json", "[models][safetensors]") {
  TempDir dir("shard");
  at::Tensor a = at::randn({3, 4}), b = at::randn({5}), c = at::randn({2, 2});
  repro::save_safetensors(dir / "model-00001-of-00002.safetensors", {{"a", a}, {"b", b}});
  repro::save_safetensors(dir / "model-00002-of-00002.safetensors", {{"c", c}});
  nlohmann::json index = {{"metadata", {{"total_size", 100}}},
                          {"weight_map",
                           {{"a", "model-00001-of-00002.safetensors"},
                            {"b", "model-00001-of-00002.safetensors"},
                            {"c", "model-00002-of-00002.safetensors"}}}};
  repro::test::write_text(dir / "model.safetensors.index.json", index.dump());

  CheckpointReader r(dir.path());
  CHECK(r.names() == std::vector<std::string>{"a", "b", "c"});
  CHECK(at::equal(r.get("a"), a));
  CHECK(at::equal(r.get("c"), c));
  CHECK(r.file_of("c") == "model-00002-of-00002.safetensors");

  SECTION("an index entry that its shard does not hold is an error") {
    index["weight_map"]["d"] = "model-00002-of-00002.safetensors";
    repro::test::write_text(dir / "model.safetensors.index.json", index.dump());
    CHECK_CONTAINS(repro::test::error_of<ModelError>([&] { CheckpointReader r2(dir.path()); }), "tensor 'd'");
  }
  SECTION("a missing shard is an error") {
    index["weight_map"]["d"] = "model-00003-of-00003.safetensors";
    repro::test::write_text(dir / "model.safetensors.index.json", index.dump());
    CHECK_CONTAINS(repro::test::error_of<ModelError>([&] { CheckpointReader r2(dir.path()); }),
                   "shard 'model-00003-of-00003.safetensors'");
  }
}

TEST_CASE("pickle checkpoints are refused with the reason", "[models][safetensors]") {
  TempDir dir("pickle");
  repro::test::write_text(dir / "pytorch_model.bin", "PK\x03\x04 not really a zip");
  try {
    CheckpointReader r(dir.path());
    FAIL("a pickle-only folder loaded");
  } catch (const ModelError& e) {
    const std::string msg = e.what();
    CHECK_CONTAINS(msg, "pytorch_model.bin");
    CHECK_CONTAINS(msg, "arbitrary code");
    CHECK_CONTAINS(msg, "safetensors");
  }
  CHECK_THROWS_AS(SafetensorsFile(dir / "weights.pt"), ModelError);
  CHECK_CONTAINS(repro::test::error_of<ModelError>([&] { SafetensorsFile f(dir / "weights.pth"); }), "pickle");
  TempDir empty("empty");
  CHECK_CONTAINS(repro::test::error_of<ModelError>([&] { CheckpointReader r2(empty.path()); }), "no model.safetensors");
}

// Found by fuzz/safetensors (fuzz/README.md): a number beyond the range of double in the header
// ("5...1e40...") made nlohmann::json throw out_of_range.406, which the reader did not catch.
TEST_CASE("fuzz: a header number beyond double is a ModelError, not a foreign exception", "[models][safetensors]") {
  static const char kFound[] =  // the fuzzer's 128-byte input: header length 112, then the header
      "p\000\000\000\000\000\000\000555555555550001e4000000000000000000000000000050953643140399"
      "90499{\042s\042:{\042dtype\042:\042@\000\000\000\000\000\000\000{\042a\042:{\042d&type&:"
      "\042F8]}}    \000\000\000\376\0002\000\000";
  static_assert(sizeof(kFound) - 1 == 128);
  const auto* bytes = reinterpret_cast<const uint8_t*>(kFound);
  const std::string msg = repro::test::error_of<ModelError>(
      [&] { repro::safetensors::parse_header(bytes, sizeof(kFound) - 1, "/m/found.safetensors"); });
  CHECK(msg.rfind("/m/found.safetensors: header is not valid JSON (number overflow parsing '5", 0) == 0);
  CHECK(msg.find('\n') == std::string::npos);

  TempDir dir("st");
  write_with_header(dir / "big.safetensors", R"({"w": {"dtype": "F32", "shape": [1e999], "data_offsets": [0, 4]}})", 4);
  CHECK_CONTAINS(open_error(dir / "big.safetensors"), "number overflow parsing '1e999'");
}
