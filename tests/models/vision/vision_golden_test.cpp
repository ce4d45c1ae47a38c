// models/vision against PyTorch references (tests/models/golden/vision, made by
// scripts/golden/make_vision_golden.py): the full ResNet-18-GN / WRN-28-10-GN tensor names and
// shapes of SPARTA's model classes, and the logits of SPARTA's ResNet / WRN and of torchvision's
// VisionTransformer (under timm's names) on the same deterministic weights.
#include "tests/catch.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "models/safetensors.h"
#include "models/vision/vision_factory.h"
#include "tests/test_util.h"

using namespace repro;
namespace fs = std::filesystem;

namespace {

fs::path golden_dir() { return repro::test::source_root() / "tests" / "models" / "golden" / "vision"; }

// The weights of make_vision_golden.py's fill_parameters(), by name.
void fill_parameters(VisionModel& model) {
  auto params = model.named_parameters();
  std::vector<std::string> names = params.keys();
  std::sort(names.begin(), names.end());
  at::NoGradGuard no_grad;
  for (size_t k = 0; k < names.size(); ++k) {
    at::Tensor p = params[names[k]];
    const int64_t n = p.numel();
    at::Tensor t = at::arange(n, at::kDouble).mul(0.7).add(static_cast<double>(k + 1)).sin();
    if (ends_with(names[k], "weight") && p.dim() >= 2)
      t = t.mul(std::sqrt(2.0 / static_cast<double>(n / p.size(0))));
    else if (ends_with(names[k], "weight"))
      t = t.mul(0.1).add(1.0);
    else
      t = t.mul(0.1);
    p.copy_(t.to(at::kFloat).view(p.sizes()));
  }
}

}  // namespace

TEST_CASE("vision golden: ResNet-18-GN and WRN-28-10-GN tensor names are SPARTA's", "[models][vision]") {
  const nlohmann::json j = nlohmann::json::parse(repro::test::read_text(golden_dir() / "names.json"));
  const std::vector<std::pair<std::string, std::shared_ptr<VisionModel>>> models = {
      {"resnet18_gn_100", make_vision_model("resnet18_gn", 100)},
      {"wrn_28_10_gn_10", make_vision_model("wrn_28_10_gn", 10)}};
  for (const auto& [key, model] : models) {
    INFO(key);
    const auto& want = j.at(key);
    const auto params = model->named_parameters();
    REQUIRE(params.size() == want.size());
    size_t i = 0;
    for (const auto& p : params) {  // state_dict order = definition order
      CHECK(p.key() == want[i][0].get<std::string>());
      CHECK(p.value().sizes().vec() == want[i][1].get<std::vector<int64_t>>());
      ++i;
    }
  }
}

TEST_CASE("vision golden: logits equal PyTorch's on the same weights", "[models][vision]") {
  for (const char* name : {"resnet18_gn", "wrn_28_10_gn", "deit_tiny"}) {
    INFO(name);
    const fs::path dir = golden_dir() / name;
    const VisionConfig config = VisionConfig::load(dir / "config.json");
    auto model = make_vision_model(config);
    fill_parameters(*model);
    const SafetensorsFile golden(dir / "golden.safetensors");
    const at::Tensor x = golden.get("input"), want = golden.get("logits");
    at::NoGradGuard no_grad;
    const at::Tensor got = model->forward(x);
    REQUIRE(got.sizes() == want.sizes());
    const double err = (got - want).abs().max().item<double>();
    const double scale = want.abs().max().item<double>();
    INFO("max |diff| " << err << ", max |logit| " << scale);
    CHECK(err <= 1e-4 * std::max(1.0, scale));
  }
}
