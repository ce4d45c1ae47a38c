// Exporting compressed models (`repro compress` / `repro eval`, library part): zoo:micro compressed
// by the perplexity suite's own pipeline with GPTQ 4-bit g128 and SparseGPT 2:4, written in the
// three formats. The compact folder reloads to the same perplexity, the hf folder to the dense
// reconstruction (same weights, perplexity within fp32 rounding), the compressed-tensors folder
// passes the format's structural check and decodes to the compressed weights; a method the format
// cannot hold is refused before any block is compressed; recipe.toml reads back.

#include "tests/catch.h"

#include <cmath>

#include <ATen/ATen.h>

#include "core/config.h"
#include "core/error.h"
#include "core/pipeline_spec.h"
#include "core/toml_writer.h"
#include "models/decoder_block.h"
#include "suites/perplexity/model_export.h"
#include "suites/perplexity/perplexity_pipeline.h"
#include "tests/compressed_tensors_check.h"
#include "tests/test_util.h"

using namespace repro;

namespace {

constexpr int64_t kSeqLen = 128, kWindows = 12;

Value::Table micro_params() {
  return {{"model", Value(std::string("zoo:micro"))},   {"nsamples", Value(int64_t{16})},
          {"seqlen", Value(kSeqLen)},                   {"calib_batch", Value(int64_t{8})},
          {"eval_windows", Value(kWindows)},            {"hessian_cache", Value(std::string("off"))}};
}

// A data folder whose three embedded splits are the test excerpt (public-domain text).
struct ExcerptData {
  test::TempDir dir{"export-data"};
  ExcerptData() {
    const std::string text = test::read_text(test::source_root() / "tests" / "fixtures" / "embedded_excerpt.txt");
    for (const char* split : {"train", "valid", "test"})
      test::write_text(dir / (std::string("embedded/") + split + ".txt"), text);
  }
};

RunOptions quiet_options(const std::filesystem::path& data) {
  RunOptions o;
  o.progress = false;
  o.log_level = "off";
  o.data_dir = data;
  return o;  // no cache folder: nothing shared between the cases
}

double ppl_of(CausalLM& m, const LoadedLM& lm, RunContext& ctx) {
  return dataset_perplexity(m, *lm.tokenizer, lm.tokenize, "embedded", kSeqLen, kWindows, 8, ctx).ppl;
}

}  // namespace

TEST_CASE("export: GPTQ 4-bit g128 and SparseGPT 2:4 on zoo:micro round-trip through the three formats",
          "[suites][export]") {
  ExcerptData data;
  struct Case {
    std::string spec, ct_kind;
  };
  for (const Case& c : {Case{"gptq(bits=4,group_size=128)", "quant"}, Case{"sparsegpt(pattern=2:4)", "sparse24"}}) {
    DYNAMIC_SECTION(c.spec) {
      RunContext ctx(quiet_options(data.dir.path()));
      const RowSpec row = pipeline_row(c.spec, "perplexity", micro_params(), "export");
      LoadedLM lm = load_lm("zoo:micro", ctx);
      const double dense_ppl = ppl_of(*lm.model, lm, ctx);
      int64_t blocks_seen = 0;
      RowCompressionHooks hooks;
      hooks.before_compress = [&](LayerCompressor& comp, const CausalLM&) {
        check_compressor_exportable(ExportFormat::CompressedTensors, comp, *lm.model, c.spec, ctx);
      };
      hooks.on_block = [&](int64_t i, const EngineReport& r) {
        CHECK(i == blocks_seen++);
        CHECK(r.layers.size() == static_cast<size_t>(i + 1) * DecoderBlock::linear_names().size());
      };
      RowCompression rc = compress_row(lm, row, ctx, hooks);
      CHECK(blocks_seen == lm.model->num_layers());
      REQUIRE(rc.compressed);
      CHECK(rc.calibrated);
      CHECK(rc.calibration_samples == 16);
      CHECK(rc.calibration_seqlen == kSeqLen);
      CausalLM& m = *lm.model;
      const double ppl = ppl_of(m, lm, ctx);
      CHECK(ppl > dense_ppl);  // compression costs something ...
      CHECK(ppl < 1.5 * dense_ppl);  // ... but not the model

      // (c) compact: the same compressed forms, so the same perplexity.
      test::TempDir compact("export-compact");
      write_exported_model(m, ExportFormat::Compact, compact.path(), at::kFloat, lm.dir());
      CHECK(std::filesystem::exists(compact / "tokenizer.model"));
      std::string format;
      auto mc = load_exported_model(compact.path(), at::kFloat, &format);
      CHECK(format == "compact");
      const double ppl_c = ppl_of(*mc, lm, ctx);
      CHECK(std::abs(ppl_c - ppl) <= 1e-9 * ppl);  // the same forward: equal to the last digit

      // (a) hf: the dense reconstruction, bit for bit in fp32; perplexity within fp32 rounding of
      // computing through dense matmuls instead of the compressed forms.
      test::TempDir hf("export-hf");
      write_exported_model(m, ExportFormat::Hf, hf.path(), at::kFloat, lm.dir());
      auto mh = load_exported_model(hf.path(), at::kFloat, &format);
      CHECK(format == "hf");
      for (int64_t i = 0; i < m.num_layers(); ++i)
        for (const auto& name : DecoderBlock::linear_names())
          CHECK(at::equal(mh->block(i).linear(name).weight, m.block(i).linear(name).compressed->dense()));
      const double ppl_a = ppl_of(*mh, lm, ctx);
      CHECK(std::abs(ppl_a - ppl) <= 1e-4 * ppl);

      // (b) compressed-tensors: the format's structure, each layer decoding to its compressed weight.
      test::TempDir ct("export-ct");
      write_exported_model(m, ExportFormat::CompressedTensors, ct.path(), at::kFloat, lm.dir());
      const test::CtReport rep = test::check_compressed_tensors(ct.path());
      INFO(rep.describe());
      CHECK(rep.problems.empty());
      CHECK(rep.layers.size() == static_cast<size_t>(m.num_layers()) * DecoderBlock::linear_names().size());
      for (const auto& L : rep.layers) {
        CHECK(L.kind == c.ct_kind);
        const int64_t blk = std::stoll(L.path.substr(L.path.find("layers.") + 7));
        const std::string name = L.path.substr(L.path.rfind('.') + 1);
        CHECK(at::allclose(test::decode_ct_layer(ct.path(), L), m.block(blk).linear(name).compressed->dense(), 1e-6, 1e-7));
      }
      CHECK(detect_model_format(ct.path()) == "compressed-tensors");
      CHECK_THROWS_AS(load_exported_model(ct.path(), at::kFloat), ConfigError);

      // recipe.toml: reads back, and its pipeline parses to the same row.
      ExportRecipe recipe;
      recipe.format = ExportFormat::Compact;
      recipe.dtype = "float32";
      recipe.row = &row;
      recipe.source = lm.identity;
      recipe.compression = &rc;
      recipe.seed = 0;
      recipe.device = "cpu";
      recipe.bytes = folder_bytes(compact.path());
      recipe.eval_dataset = "embedded";
      recipe.eval_ppl = ppl;
      recipe.eval_windows = kWindows;
      const Value back = parse_toml(to_toml(make_recipe(recipe)), "recipe.toml");
      CHECK(back.find("pipeline")->as_string() == row.pipeline());
      CHECK(pipeline_row(back.find("pipeline")->as_string(), "perplexity", micro_params(), "again").pipeline() ==
            row.pipeline());
      CHECK(back.find("source")->find("sha256")->as_string() == lm.identity["sha256"].get<std::string>());
      const Value& cal = *back.find("calibration");
      CHECK(cal.find("used")->as_bool());
      CHECK(cal.find("samples")->as_int() == 16);
      CHECK(cal.find("seq_len")->as_int() == kSeqLen);
      CHECK(cal.find("dataset")->as_string() == "embedded");
      CHECK(cal.find("tokens_sha256")->as_string().size() == 64);
      const Value& comp = back.find("components")->as_array().front();
      CHECK(comp.find("slot")->as_string() == "compressor");
      CHECK(comp.find("params")->find("block_size")->as_int() == 128);  // defaults filled in
      CHECK(back.find("storage")->find("bytes")->as_int() > 0);
      CHECK(back.find("eval")->find("ppl")->as_float() == ppl);
    }
  }
}

TEST_CASE("export: compressed-tensors refuses sparse + low-rank before any block is compressed", "[suites][export]") {
  ExcerptData data;
  RunContext ctx(quiet_options(data.dir.path()));
  const std::string spec = "oats(pattern=2:4,rank=4,iterations=2)";
  const RowSpec row = pipeline_row(spec, "perplexity", micro_params(), "export");
  LoadedLM lm = load_lm("zoo:micro", ctx);
  int64_t blocks = 0;
  RowCompressionHooks hooks;
  hooks.before_compress = [&](LayerCompressor& comp, const CausalLM&) {
    check_compressor_exportable(ExportFormat::CompressedTensors, comp, *lm.model, spec, ctx);
  };
  hooks.on_block = [&](int64_t, const EngineReport&) { ++blocks; };
  try {
    compress_row(lm, row, ctx, hooks);
    FAIL("compress_row should have refused");
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    CHECK(msg.find("low-rank") != std::string::npos);
    CHECK(msg.find("--format compact") != std::string::npos);
  }
  CHECK(blocks == 0);
  CHECK(lm.model->block(0).linear("q_proj").weight.defined());  // nothing compressed
  CHECK(!lm.model->block(0).linear("q_proj").compressed);
}

TEST_CASE("export: format names", "[suites][export]") {
  CHECK(parse_export_format("hf") == ExportFormat::Hf);
  CHECK(parse_export_format("dense") == ExportFormat::Hf);
  CHECK(parse_export_format("compressed-tensors") == ExportFormat::CompressedTensors);
  CHECK(parse_export_format("compact") == ExportFormat::Compact);
  CHECK_THROWS_AS(parse_export_format("gguf"), ConfigError);
  for (auto f : {ExportFormat::Hf, ExportFormat::CompressedTensors, ExportFormat::Compact})
    CHECK(parse_export_format(export_format_name(f)) == f);
}
