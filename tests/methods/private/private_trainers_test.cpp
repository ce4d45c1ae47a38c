// The PrivateTrainer plugins on a toy VisionModel: each baseline trains exactly its roles (every
// other parameter bitwise unchanged); SPARTA selects a row with planted large gradients, keeps
// exactly the code's number of rows per layer, never changes a masked coordinate after the fold,
// accounts its selection epoch (epsilon <= target over every step), and repeats itself for a seed;
// dp_magnitude_mask trains exactly its public mask; dp_full learns a toy task at a large epsilon.
#include "tests/catch.h"
#include "tests/test_util.h"

#include <ATen/ATen.h>

#include <map>
#include <set>

#include "core/error.h"
#include "core/run_context.h"
#include "methods/api/private_trainer.h"
#include "tests/toy_vision_model.h"
#include "training/dp/sparse_masks.h"

using namespace repro;

namespace {

std::unique_ptr<PrivateTrainer> make(const std::string& name, Value::Table params) {
  auto m = Registry<PrivateTrainer>::instance().create(name);
  m->configure(Params::validate(Value(std::move(params)), m->info().params, name));
  return m;
}

// Small, fast settings (the defaults are SPARTA's CIFAR ones).
Value::Table small(Value::Table extra = {}) {
  Value::Table t{{"epochs", Value(int64_t{2})},
                 {"lot_size", Value(int64_t{16})},
                 {"physical_batch", Value(int64_t{16})},
                 {"lr", Value(0.05)},
                 {"head_lr", Value(0.1)},
                 {"augment", Value(false)},
                 {"eval_batch", Value(int64_t{64})}};
  for (auto& [k, v] : extra) t[k] = v;
  return t;
}

std::map<std::string, at::Tensor> snapshot(const torch::nn::Module& m) {
  std::map<std::string, at::Tensor> out;
  for (const auto& p : m.named_parameters()) out[p.key()] = p.value().detach().clone();
  return out;
}

bool bitwise_equal(const at::Tensor& a, const at::Tensor& b) {
  return a.sizes() == b.sizes() && at::equal(a.contiguous().view(at::kInt), b.contiguous().view(at::kInt));
}

// Rows of a [out, *] weight in which some coordinate differs from `before`.
at::Tensor changed_rows(const at::Tensor& after, const at::Tensor& before) {
  return after.ne(before).flatten(1).any(1);
}

}  // namespace

TEST_CASE("every PrivateTrainer plugin is registered with the shared parameters", "[private][methods]") {
  for (const char* name : {"dp_full", "dp_last_layer", "dp_head_norm", "dp_bitfit", "dp_magnitude_mask", "sparta",
                           "_template_private_trainer"}) {
    INFO(name);
    REQUIRE(Registry<PrivateTrainer>::instance().contains(name));
    const MethodInfo& info = *Catalog::instance().find(PrivateTrainer::kFamily, name);
    for (const char* p : {"epochs", "lot_size", "physical_batch", "max_grad_norm", "lr", "head_lr", "noise_multiplier"})
      CHECK(info.find_param(p) != nullptr);
  }
  const MethodInfo& sparta = *Catalog::instance().find(PrivateTrainer::kFamily, "sparta");
  CHECK(sparta.find_param("selection_epoch")->default_value.as_int() == 10);
  CHECK(sparta.find_param("density")->default_value.as_float() == 0.2);
  CHECK(sparta.find_param("lot_size")->default_value.as_int() == 500);
  CHECK(sparta.find_param("epochs")->default_value.as_int() == 50);
  // The selection epoch must be one of the run's epochs.
  CHECK_THROWS_AS(make("sparta", small({{"selection_epoch", Value(int64_t{2})}})), ConfigError);
}

TEST_CASE("each baseline trains exactly its roles; every other parameter is bitwise unchanged", "[private][methods]") {
  const dp::LabeledImages data = test::toy_images(32, 3, 41);
  const std::map<std::string, std::set<std::string>> trains{
      {"dp_full", {"conv1.weight", "conv1.bias", "gn.weight", "gn.bias", "conv2.weight", "head.weight", "head.bias"}},
      {"dp_last_layer", {"head.weight", "head.bias"}},
      {"dp_head_norm", {"gn.weight", "gn.bias", "head.weight", "head.bias"}},
      {"dp_bitfit", {"conv1.bias", "gn.weight", "gn.bias", "head.weight", "head.bias"}},
  };
  for (const auto& [name, expected] : trains) {
    INFO(name);
    at::manual_seed(42);
    test::ToyVisionModel model(3);
    const auto before = snapshot(model);
    const dp::DpTrainRecord r =
        make(name, small({{"epochs", Value(int64_t{1})}}))->train(model, data, data, PrivacyBudget{8.0, 1e-5}, test::quiet_context());
    CHECK(r.steps == 2);
    for (const auto& p : model.named_parameters()) {
      INFO(p.key());
      if (expected.count(p.key())) {
        CHECK(p.value().ne(before.at(p.key())).all().item<bool>());  // noise reaches every coordinate
      } else {
        CHECK(bitwise_equal(p.value(), before.at(p.key())));
      }
      CHECK(p.value().requires_grad());  // restored
    }
    int64_t coords = 0;
    for (const auto& n : expected) coords += before.at(n).numel();
    CHECK(r.trainable == coords);
  }
}

TEST_CASE("dp_magnitude_mask trains exactly its public mask (rows by norm, or the code's entries)",
          "[private][methods]") {
  const dp::LabeledImages data = test::toy_images(32, 3, 43);
  for (const char* granularity : {"rows", "elements"}) {
    INFO(granularity);
    at::manual_seed(44);
    test::ToyVisionModel model(3);
    const auto before = snapshot(model);
    make("dp_magnitude_mask", small({{"granularity", Value(std::string(granularity))}, {"density", Value(0.5)}}))
        ->train(model, data, data, PrivacyBudget{8.0, 1e-5}, test::quiet_context());
    const auto g = std::string(granularity) == "rows" ? dp::MaskGranularity::kRows : dp::MaskGranularity::kElements;
    for (const char* w : {"conv1.weight", "conv2.weight"}) {
      INFO(w);
      const at::Tensor mask = dp::magnitude_mask(before.at(w), 0.5, g);
      const at::Tensor after = model.named_parameters()[w];
      CHECK(at::equal(after.ne(before.at(w)), mask));  // inside: all moved; outside: none
      CHECK(bitwise_equal(after.masked_select(mask.logical_not()), before.at(w).masked_select(mask.logical_not())));
    }
    // Norms and biases train (the code's mp_weights), the Frozen offset does not.
    CHECK_FALSE(at::equal(model.gn->weight, before.at("gn.weight")));
    CHECK(bitwise_equal(model.offset, before.at("offset")));
  }
}

TEST_CASE("sparta selects the row with planted large gradients (sigma 0, both scores)", "[private][methods]") {
  const dp::LabeledImages data = test::toy_images(48, 3, 45);
  for (const char* score : {"abs_sum", "sum_abs"}) {
    INFO(score);
    at::manual_seed(46);
    test::ToyVisionModel model(3);
    {
      // conv2's output channel 4 feeds the head through weights 30x larger than the others: its
      // row's gradients are the largest by far.
      at::NoGradGuard g;
      model.head->weight.select(1, 4).mul_(30.0);
      model.conv2->weight[4].abs_();  // and it is active (ReLU) on the toy inputs
    }
    const auto before = snapshot(model);
    const dp::DpTrainRecord r = make("sparta", small({{"epochs", Value(int64_t{2})},
                                                      {"selection_epoch", Value(int64_t{0})},
                                                      {"density", Value(0.2)},
                                                      {"noise_multiplier", Value(0.0)},
                                                      {"score", Value(std::string(score))}}))
                                    ->train(model, data, data, PrivacyBudget{8.0, 1e-5}, test::quiet_context());
    REQUIRE(r.epochs.size() == 2);
    CHECK(r.epochs[0].phase == "select");
    // conv2 has 6 rows: int(6 * 0.8) = 4 removed, 2 kept; the planted row is one of them.
    const at::Tensor rows2 = changed_rows(model.conv2->weight, before.at("conv2.weight"));
    CHECK(rows2[4].item<bool>());
    CHECK(rows2.sum().item<int64_t>() <= 2);
  }
}

TEST_CASE("sparta: exact rows per layer, masked coordinates bitwise frozen after the fold, every step accounted",
          "[private][methods]") {
  const dp::LabeledImages data = test::toy_images(48, 3, 47);
  at::manual_seed(48);
  test::ToyVisionModel model(3);
  const auto before = snapshot(model);
  // 4 epochs: 1 head-only (m = 0), the selection epoch, 2 masked epochs; sigma calibrated for eps 4.
  const dp::DpTrainRecord r =
      make("sparta",
           small({{"epochs", Value(int64_t{4})}, {"selection_epoch", Value(int64_t{1})}, {"density", Value(0.3)}}))
          ->train(model, data, data, PrivacyBudget{4.0, 1e-5}, test::quiet_context());
  REQUIRE(r.epochs.size() == 4);
  CHECK(r.epochs[0].phase == "train");
  CHECK(r.epochs[1].phase == "select");
  CHECK(r.epochs[2].phase == "train");
  CHECK(r.lots_per_epoch == 3);
  CHECK(r.steps == 12);  // the selection epoch's 3 releases included
  CHECK(r.planned_steps == 12);
  CHECK(r.epsilon <= 4.0);
  CHECK(r.epsilon > 3.98);
  CHECK(r.epochs[1].epsilon > r.epochs[0].epsilon);  // selection spends privacy
  CHECK(r.noise_multiplier == Approx(dp::calibrate_noise_multiplier(4.0, 1e-5, 1.0 / 3, 12)));
  // Weights never move before the fold (m = 0, then lr 0), and only the kept rows after it: a row
  // either changed in every coordinate (noise reaches all) or is bitwise the pretrained one.
  for (const char* w : {"conv1.weight", "conv2.weight"}) {
    INFO(w);
    const at::Tensor after = model.named_parameters()[w], b = before.at(w);
    const at::Tensor rows = changed_rows(after, b);
    CHECK(rows.sum().item<int64_t>() == dp::kept_count(b.size(0), 0.3));  // 8 rows: 3 kept; 6 rows: 2 kept
    const at::Tensor mask = dp::expand_row_mask(rows, b.sizes());
    CHECK(at::equal(after.ne(b), mask));
    CHECK(bitwise_equal(after.masked_select(mask.logical_not()), b.masked_select(mask.logical_not())));
  }
  // Norms, biases and the head train throughout; the Frozen offset never.
  CHECK(model.gn->bias.ne(before.at("gn.bias")).all().item<bool>());
  CHECK(model.conv1->bias.ne(before.at("conv1.bias")).all().item<bool>());
  CHECK(bitwise_equal(model.offset, before.at("offset")));
  const int64_t expected = 3 * 3 * 3 * 3 + 2 * 8 * 3 * 3 + 8 + 8 + 8 + 6 * 3 + 3;  // masked rows + others
  CHECK(r.trainable == expected);
}

TEST_CASE("sparta: the same seed gives the same model and record", "[private][methods]") {
  const dp::LabeledImages data = test::toy_images(32, 3, 49);
  auto run = [&](uint64_t seed, dp::DpTrainRecord* rec) {
    at::manual_seed(50);
    test::ToyVisionModel model(3);
    *rec =
        make("sparta",
             small({{"epochs", Value(int64_t{3})}, {"selection_epoch", Value(int64_t{1})}, {"augment", Value(true)}}))
            ->train(model, data, data, PrivacyBudget{8.0, 1e-5}, test::quiet_context(seed));
    return snapshot(model);
  };
  dp::DpTrainRecord r1, r2, r3;
  const auto a = run(3, &r1), b = run(3, &r2), c = run(4, &r3);
  for (const auto& [name, t] : a) CHECK(bitwise_equal(t, b.at(name)));
  CHECK(r1.test_accuracy == r2.test_accuracy);
  CHECK_FALSE(at::equal(a.at("conv2.weight"), c.at("conv2.weight")));
}

TEST_CASE("dp_full learns a toy task at a large epsilon (2 epochs, well above chance)", "[private][methods]") {
  const dp::LabeledImages train = test::toy_images(256, 4, 51), test_set = test::toy_images(128, 4, 51);
  at::manual_seed(52);
  test::ToyVisionModel model(4);
  const dp::DpTrainRecord r = make("dp_full", small({{"epochs", Value(int64_t{2})},
                                                     {"lot_size", Value(int64_t{16})},
                                                     {"physical_batch", Value(int64_t{32})},
                                                     {"lr", Value(1.0)},
                                                     {"head_lr", Value(1.0)},
                                                     {"pct_start", Value(0.1)}}))
                                  ->train(model, train, test_set, PrivacyBudget{1000.0, 1e-5}, test::quiet_context());
  INFO("test accuracy " << r.test_accuracy << ", sigma " << r.noise_multiplier);
  CHECK(r.epsilon <= 1000.0);
  CHECK(r.test_accuracy > 0.6);  // chance is 0.25
}

TEST_CASE("_template_private_trainer: the head alone, then the head and the norms", "[private][methods][template]") {
  const dp::LabeledImages data = test::toy_images(32, 3, 53);
  at::manual_seed(54);
  test::ToyVisionModel model(3);
  const auto before = snapshot(model);
  make("_template_private_trainer", small({{"head_epochs", Value(int64_t{1})}}))
      ->train(model, data, data, PrivacyBudget{8.0, 1e-5}, test::quiet_context());
  CHECK_FALSE(at::equal(model.head->weight, before.at("head.weight")));
  CHECK_FALSE(at::equal(model.gn->weight, before.at("gn.weight")));
  CHECK(bitwise_equal(model.conv1->weight, before.at("conv1.weight")));
}
