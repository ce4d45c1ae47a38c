// models/vision: the classifiers of private fine-tuning. Tiny configurations of every architecture
// (the real sizes only for parameter counts): forward shapes, SPARTA's / timm's tensor names,
// parameter roles, per-example gradients through training/dp, head replacement, and the
// safetensors round trip with its errors.
#include "tests/catch.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <functional>
#include <map>

#include <torch/csrc/autograd/autograd.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "models/safetensors.h"
#include "models/vision/vision_factory.h"
#include "tests/models/models_test_util.h"
#include "tests/test_util.h"
#include "training/dp/per_sample_layers.h"

using namespace repro;
using repro::test::error_of;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// A small variant of each architecture, fast on a CPU, with the architecture's tensor names.
VisionConfig tiny(const std::string& arch, int64_t classes = 3) {
  VisionConfig c = vision_config(arch, classes);
  if (arch == "resnet18_gn") c.width = 4, c.norm_groups = 2;
  if (arch == "cnn_gn_small") c.width = 4, c.norm_groups = 2;
  if (arch == "wrn_28_10_gn") c.depth = 10, c.width = 1, c.norm_groups = 4;
  if (arch == "deit_tiny" || arch == "deit_small")
    c.width = arch == "deit_tiny" ? 16 : 24, c.num_heads = arch == "deit_tiny" ? 2 : 3, c.depth = 1, c.patch_size = 4,
    c.image_size = 8;
  return c;
}

at::Tensor images_for(const VisionConfig& c, int64_t batch) {
  const int64_t size = c.architecture.rfind("deit", 0) == 0 ? c.image_size : 12;
  return at::randn({batch, c.in_channels, size, size});
}

std::map<std::string, std::vector<int64_t>> shapes_of(const VisionModel& m) {
  std::map<std::string, std::vector<int64_t>> out;
  for (const auto& p : m.named_parameters()) out[p.key()] = p.value().sizes().vec();
  return out;
}

int64_t count_params(const VisionModel& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

}  // namespace

TEST_CASE("vision models: forward shapes of every architecture", "[models][vision]") {
  at::manual_seed(0);
  for (const std::string& arch : vision_architectures()) {
    INFO(arch);
    const VisionConfig c = tiny(arch);
    auto model = make_vision_model(c);
    const at::Tensor y = model->forward(images_for(c, 2));
    CHECK(y.sizes().vec() == std::vector<int64_t>{2, 3});
    CHECK(y.isfinite().all().item<bool>());
    CHECK(model->num_classes() == 3);
    CHECK(model->in_channels() == c.in_channels);
    CHECK(model->config().spec() == c.spec());
  }
  // The default cnn_gn_small on its 28x28 grayscale input.
  auto cnn = make_vision_model("cnn_gn_small", 10);
  CHECK(cnn->forward(at::rand({2, 1, 28, 28})).sizes().vec() == std::vector<int64_t>{2, 10});
  CHECK(count_params(*cnn) == 77754);
}

TEST_CASE("vision models: the real sizes have the published parameter counts", "[models][vision]") {
  // ResNet-18 for CIFAR (10 classes): 11,173,962 (GroupNorm has BatchNorm's affine parameters);
  // DeiT-Tiny / -Small with 1000 classes: 5,717,416 / 22,050,664 (timm); WRN-28-10 with the biases of
  // SPARTA's convolutions: 36,489,290.
  CHECK(count_params(*make_vision_model("resnet18_gn", 10)) == 11173962);
  CHECK(count_params(*make_vision_model("deit_tiny", 1000)) == 5717416);
  CHECK(count_params(*make_vision_model("deit_small", 1000)) == 22050664);
  CHECK(count_params(*make_vision_model("wrn_28_10_gn", 10)) == 36489290);
}

TEST_CASE("vision models: tensor names and shapes follow SPARTA's and timm's checkpoints", "[models][vision]") {
  SECTION("resnet18_gn") {
    auto m = make_vision_model("resnet18_gn", 100);
    const auto s = shapes_of(*m);
    CHECK(s.size() == 62);
    CHECK(s.at("conv1.weight") == std::vector<int64_t>{64, 3, 3, 3});
    CHECK(s.at("bn1.weight") == std::vector<int64_t>{64});
    CHECK(s.at("layer1.0.conv1.weight") == std::vector<int64_t>{64, 64, 3, 3});
    CHECK(s.at("layer1.1.bn2.bias") == std::vector<int64_t>{64});
    CHECK(s.at("layer2.0.shortcut.0.weight") == std::vector<int64_t>{128, 64, 1, 1});
    CHECK(s.at("layer4.0.shortcut.1.weight") == std::vector<int64_t>{512});
    CHECK(s.at("layer4.1.conv2.weight") == std::vector<int64_t>{512, 512, 3, 3});
    CHECK(s.at("linear.weight") == std::vector<int64_t>{100, 512});
    CHECK(s.count("layer1.0.shortcut.0.weight") == 0);  // identity shortcut
    CHECK(s.count("conv1.bias") == 0);
    CHECK(m->named_parameters().keys().front() == "conv1.weight");
    CHECK(m->named_parameters().keys().back() == "linear.bias");
  }
  SECTION("wrn_28_10_gn") {
    auto m = make_vision_model(tiny("wrn_28_10_gn"));
    const auto s = shapes_of(*m);
    CHECK(s.size() == 34);  // depth 10, k = 1: one block per stage, no projection in layer1 (WRN-28-10: 108)
    CHECK(s.at("conv1.bias") == std::vector<int64_t>{16});
    CHECK(s.at("layer1.0.bn1.weight") == std::vector<int64_t>{16});
    CHECK(s.at("layer2.0.conv2.weight") == std::vector<int64_t>{32, 32, 3, 3});
    CHECK(s.at("layer3.0.shortcut.0.bias") == std::vector<int64_t>{64});
    CHECK(s.at("bn1.weight") == std::vector<int64_t>{64});
    CHECK(s.at("linear.weight") == std::vector<int64_t>{3, 64});
    const auto keys = m->named_parameters().keys();
    CHECK(keys[keys.size() - 3] == "bn1.bias");  // the final GroupNorm comes after the stages
  }
  SECTION("deit_tiny") {
    VisionConfig c = vision_config("deit_tiny", 1000);
    c.depth = 2;
    auto m = make_vision_model(c);
    const auto s = shapes_of(*m);
    CHECK(s.size() == 4 + 2 * 12 + 4);
    CHECK(s.at("cls_token") == std::vector<int64_t>{1, 1, 192});
    CHECK(s.at("pos_embed") == std::vector<int64_t>{1, 197, 192});
    CHECK(s.at("patch_embed.proj.weight") == std::vector<int64_t>{192, 3, 16, 16});
    CHECK(s.at("blocks.1.attn.qkv.weight") == std::vector<int64_t>{576, 192});
    CHECK(s.at("blocks.1.attn.proj.bias") == std::vector<int64_t>{192});
    CHECK(s.at("blocks.0.mlp.fc1.weight") == std::vector<int64_t>{768, 192});
    CHECK(s.at("blocks.0.mlp.fc2.weight") == std::vector<int64_t>{192, 768});
    CHECK(s.at("blocks.0.norm2.weight") == std::vector<int64_t>{192});
    CHECK(s.at("norm.bias") == std::vector<int64_t>{192});
    CHECK(s.at("head.weight") == std::vector<int64_t>{1000, 192});
    CHECK(m->named_parameters().keys().front() == "cls_token");
  }
}

TEST_CASE("vision models: parameter roles", "[models][vision]") {
  auto resnet = make_vision_model(tiny("resnet18_gn"));
  CHECK(resnet->role("conv1.weight") == ParamRole::Maskable);
  CHECK(resnet->role("bn1.bias") == ParamRole::Norm);
  CHECK(resnet->role("layer2.0.shortcut.0.weight") == ParamRole::Maskable);
  CHECK(resnet->role("layer2.0.shortcut.1.weight") == ParamRole::Norm);
  CHECK(resnet->role("linear.weight") == ParamRole::Head);
  CHECK(resnet->role("linear.bias") == ParamRole::Head);
  CHECK(contains(error_of<ConfigError>([&] { resnet->role("fc.weight"); }), "fc.weight"));

  auto cnn = make_vision_model("cnn_gn_small", 10);
  CHECK(cnn->role("linear.weight") == ParamRole::Head);
  CHECK(cnn->role("layer3.0.conv2.weight") == ParamRole::Maskable);

  auto wrn = make_vision_model(tiny("wrn_28_10_gn"));
  CHECK(wrn->role("conv1.bias") == ParamRole::Bias);
  CHECK(wrn->role("layer1.0.conv1.weight") == ParamRole::Maskable);
  CHECK(wrn->role("layer3.0.shortcut.0.bias") == ParamRole::Bias);
  CHECK(wrn->role("bn1.weight") == ParamRole::Norm);
  CHECK(wrn->role("linear.bias") == ParamRole::Head);

  auto deit = make_vision_model(tiny("deit_small"));
  CHECK(deit->role("cls_token") == ParamRole::Frozen);
  CHECK(deit->role("pos_embed") == ParamRole::Frozen);
  CHECK_FALSE(deit->named_parameters()["cls_token"].requires_grad());
  CHECK_FALSE(deit->named_parameters()["pos_embed"].requires_grad());
  CHECK(deit->role("patch_embed.proj.weight") == ParamRole::Maskable);
  CHECK(deit->role("patch_embed.proj.bias") == ParamRole::Bias);
  CHECK(deit->role("blocks.0.attn.qkv.weight") == ParamRole::Maskable);
  CHECK(deit->role("blocks.0.mlp.fc2.bias") == ParamRole::Bias);
  CHECK(deit->role("blocks.0.norm1.weight") == ParamRole::Norm);
  CHECK(deit->role("norm.weight") == ParamRole::Norm);
  CHECK(deit->role("head.weight") == ParamRole::Head);
  CHECK(std::string(param_role_name(ParamRole::Maskable)) == "maskable");
  CHECK(std::string(param_role_name(ParamRole::Frozen)) == "frozen");
}

TEST_CASE("vision models: collect_grad_samples has one entry per trainable parameter", "[models][vision]") {
  at::manual_seed(1);
  for (const std::string& arch : vision_architectures()) {
    INFO(arch);
    const VisionConfig c = tiny(arch);
    auto model = make_vision_model(c);
    const at::Tensor x = images_for(c, 3);
    const at::Tensor y = at::randint(0, 3, {3}, at::kLong);
    dp::clear_grad_samples(*model);
    at::cross_entropy_loss(model->forward(x), y, {}, at::Reduction::Sum).backward();
    const auto gs = dp::collect_grad_samples(*model);
    size_t trainable = 0;
    for (const auto& p : model->named_parameters())
      if (p.value().requires_grad()) ++trainable;
    CHECK(gs.size() == trainable);
    for (const auto& g : gs) {
      INFO(g.name);
      std::vector<int64_t> want{3};
      for (int64_t d : g.param.sizes()) want.push_back(d);
      CHECK(g.grad_sample.sizes().vec() == want);
    }
  }
}

TEST_CASE("vision models: per-example gradients equal a loop over the examples", "[models][vision]") {
  at::manual_seed(2);
  for (const std::string& arch : {std::string("cnn_gn_small"), std::string("wrn_28_10_gn"), std::string("deit_tiny")}) {
    INFO(arch);
    const VisionConfig c = tiny(arch);
    auto model = make_vision_model(c);
    const at::Tensor x = images_for(c, 2);
    const at::Tensor y = at::tensor(std::vector<int64_t>{0, 2});
    dp::clear_grad_samples(*model);
    at::cross_entropy_loss(model->forward(x), y, {}, at::Reduction::Sum).backward();
    const auto batched = dp::collect_grad_samples(*model);
    dp::clear_grad_samples(*model);  // the loop's forwards record per-example gradients too

    std::vector<at::Tensor> params;
    for (const auto& g : batched) params.push_back(g.param);
    for (int64_t b = 0; b < 2; ++b) {
      const at::Tensor loss =
          at::cross_entropy_loss(model->forward(x.narrow(0, b, 1)), y.narrow(0, b, 1), {}, at::Reduction::Sum);
      const auto grads = torch::autograd::grad({loss}, params);
      for (size_t k = 0; k < params.size(); ++k) {
        INFO(batched[k].name << " example " << b);
        const at::Tensor got = batched[k].grad_sample[b], want = grads[k];
        const double scale = want.abs().max().item<double>() + 1e-12;
        CHECK((got - want).abs().max().item<double>() / scale < 1e-4);
      }
    }
  }
}

TEST_CASE("vision models: reset_head changes only the head", "[models][vision]") {
  for (const std::string& arch : {std::string("resnet18_gn"), std::string("deit_tiny")}) {
    INFO(arch);
    at::manual_seed(3);
    const VisionConfig c = tiny(arch, 10);
    auto model = make_vision_model(c);
    const std::string head = arch == "deit_tiny" ? "head" : "linear";
    std::map<std::string, at::Tensor> before;
    for (const auto& p : model->named_parameters()) before[p.key()] = p.value().clone();
    model->reset_head(4);
    CHECK(model->num_classes() == 4);
    CHECK(model->config().num_classes == 4);
    const auto after = model->named_parameters();
    CHECK(after.size() == before.size());
    for (const auto& p : after) {
      INFO(p.key());
      if (p.key().rfind(head + ".", 0) == 0) {
        CHECK(p.value().size(0) == 4);
        CHECK(p.value().sizes().slice(1) == before.at(p.key()).sizes().slice(1));
        CHECK(model->role(p.key()) == ParamRole::Head);
        CHECK(p.value().requires_grad());
      } else {
        CHECK(at::equal(p.value(), before.at(p.key())));
      }
    }
    CHECK(model->forward(images_for(c, 2)).sizes().vec() == std::vector<int64_t>{2, 4});
    CHECK_THROWS_AS(model->reset_head(0), ConfigError);
  }
}

TEST_CASE("vision models: save and load round trip through safetensors", "[models][vision]") {
  repro::test::TempDir dir("vision");
  for (const std::string& arch : vision_architectures()) {
    INFO(arch);
    at::manual_seed(4);
    const VisionConfig c = tiny(arch);
    auto model = make_vision_model(c);
    const fs::path out = dir / arch;
    save_vision_model(*model, out);
    auto loaded = load_vision_model(out);
    CHECK(loaded->config().spec() == c.spec());
    const auto a = model->named_parameters(), b = loaded->named_parameters();
    REQUIRE(a.size() == b.size());
    for (const auto& p : a) CHECK(at::equal(p.value(), b[p.key()]));
    CHECK(loaded->role(a.keys().back()) == ParamRole::Head);
    const at::Tensor x = images_for(c, 2);
    at::NoGradGuard no_grad;
    CHECK(at::allclose(model->forward(x), loaded->forward(x)));
  }
  // One .safetensors file without a config.json beside it: the config comes from its metadata.
  const fs::path lone = dir / "lone";
  fs::create_directories(lone);
  fs::copy_file(dir / "deit_tiny" / "model.safetensors", lone / "w.safetensors");
  CHECK(load_vision_model(lone / "w.safetensors")->config().architecture == "deit_tiny");
}

namespace {

// Writes `model`'s parameters to `path`, changed by `edit` (name -> tensor; an undefined tensor
// drops the entry).
void write_edited(const VisionModel& model, const fs::path& path,
                  const std::function<void(std::map<std::string, at::Tensor>&)>& edit) {
  std::map<std::string, at::Tensor> t;
  for (const auto& p : model.named_parameters()) t[p.key()] = p.value().detach().clone();
  edit(t);
  std::vector<std::pair<std::string, at::Tensor>> list;
  for (auto& [k, v] : t)
    if (v.defined()) list.emplace_back(k, v);
  save_safetensors(path, list);
}

}  // namespace

TEST_CASE("vision models: loading errors name the tensor", "[models][vision]") {
  repro::test::TempDir dir("vision-err");
  auto model = make_vision_model(tiny("resnet18_gn"));
  const fs::path f = dir / "w.safetensors";

  write_edited(*model, f, [](auto& t) { t.erase("layer2.0.bn1.weight"); });
  std::string msg = error_of<ModelError>([&] { load_vision_weights(*model, f); });
  CHECK(contains(msg, "1 missing tensor(s): layer2.0.bn1.weight"));

  write_edited(*model, f, [](auto& t) { t["layer1.0.conv1.weight"] = at::zeros({4, 4, 1, 1}); });
  msg = error_of<ModelError>([&] { load_vision_weights(*model, f); });
  CHECK(contains(msg, "'layer1.0.conv1.weight'"));
  CHECK(contains(msg, "[4, 4, 1, 1]"));
  CHECK(contains(msg, "[4, 4, 3, 3]"));

  write_edited(*model, f, [](auto& t) { t["fc.weight"] = at::zeros({2}); });
  CHECK(contains(error_of<ModelError>([&] { load_vision_weights(*model, f); }), "1 unknown tensor(s): fc.weight"));

  // An Opacus GradSampleModule's state_dict prefixes every name with "_module.".
  auto other = make_vision_model(tiny("resnet18_gn"));
  write_edited(*other, f, [](auto& t) {
    std::map<std::string, at::Tensor> renamed;
    for (auto& [k, v] : t) renamed["_module." + k] = v;
    t = renamed;
  });
  load_vision_weights(*model, f);
  CHECK(at::equal(model->named_parameters()["linear.weight"], other->named_parameters()["linear.weight"]));

  // No config anywhere; pickle files are refused.
  write_edited(*model, f, [](auto&) {});
  CHECK(contains(error_of<ModelError>([&] { load_vision_model(f); }), "config"));
  CHECK_THROWS_AS(load_vision_model(dir / "resnet18_cifar100_gn.pt"), ModelError);
}

TEST_CASE("vision configs: names, timm's config.json, validation", "[models][vision]") {
  CHECK(contains(error_of<ConfigError>([] { make_vision_model("resnet18_bn", 10); }), "did you mean 'resnet18_gn'"));
  const VisionConfig timm = VisionConfig::from_json(
      R"({"architecture": "deit_small_patch16_224", "num_classes": 1000, "num_features": 384,
          "global_pool": "token", "pretrained_cfg": {"input_size": [3, 224, 224], "mean": [0.485, 0.456, 0.406]}})",
      "config.json");
  CHECK(timm.architecture == "deit_small");
  CHECK(timm.width == 384);
  CHECK(timm.num_heads == 6);
  CHECK(timm.image_size == 224);
  CHECK(timm.norm_eps == 1e-6);
  CHECK(VisionConfig::from_json(timm.to_json().dump(), "x").spec() == timm.spec());

  VisionConfig bad = tiny("deit_tiny");
  bad.num_heads = 3;
  CHECK(contains(error_of<ModelError>([&] { make_vision_model(bad); }), "num_heads"));
  bad = tiny("wrn_28_10_gn");
  bad.depth = 12;
  CHECK(contains(error_of<ModelError>([&] { make_vision_model(bad); }), "6n + 4"));
  CHECK_THROWS_AS(VisionConfig::from_json(R"({"architecture": "vit_huge"})", "c.json"), ModelError);
  // DeiT needs its image size (pos_embed); the convolutional models pool globally.
  auto deit = make_vision_model(tiny("deit_tiny"));
  CHECK(contains(error_of<ConfigError>([&] { deit->forward(at::zeros({1, 3, 12, 12})); }), "resize"));
  CHECK_THROWS_AS(make_vision_model("cnn_gn_small", 10)->forward(at::zeros({1, 3, 28, 28})), ConfigError);
}
