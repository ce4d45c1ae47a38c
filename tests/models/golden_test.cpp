// Golden logits against Hugging Face transformers. The reference files are made on a machine with
// Python torch + transformers by scripts/golden/make_llama_golden.py:
//   tests/models/golden/<name>/config.json, model.safetensors   a tiny random checkpoint
//   tests/models/golden/<name>/golden.safetensors               input_ids [B, T] int64, logits [B, T, V] fp32
// Without them the test WARNs and passes. Token ids are checked against HF's tokenizers library in
// tokenizer_golden_test.cpp.
#include "models/llama_io.h"
#include "models/safetensors.h"
#include "tests/models/models_test_util.h"
#include "tests/test_util.h"

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> golden_dirs(const std::string& file) {
  std::vector<fs::path> out;
  const fs::path root = repro::test::source_root() / "tests" / "models" / "golden";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    if (e.is_directory() && fs::exists(e.path() / file)) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("logits match HF transformers on golden checkpoints", "[models][golden]") {
  const auto dirs = golden_dirs("golden.safetensors");
  if (dirs.empty()) {
    WARN("no tests/models/golden/*/golden.safetensors: run scripts/golden/make_llama_golden.py where transformers is "
         "installed to enable the golden-logit test");
    return;
  }
  for (const fs::path& dir : dirs) {
    INFO(dir.filename().string());
    auto model = repro::load_causal_lm(dir, at::kFloat);
    repro::SafetensorsFile golden(dir / "golden.safetensors");
    at::Tensor ids = golden.get("input_ids");
    at::Tensor expected = golden.get("logits").to(at::kFloat);
    at::Tensor got = model->forward(ids);
    REQUIRE(got.sizes() == expected.sizes());
    const double err = (got - expected).abs().max().item<double>();
    const double scale = expected.abs().max().item<double>();
    INFO("max abs error " << err << " for logits up to " << scale);
    CHECK(err <= 1e-4 * scale + 1e-4);
  }
}
