#include "training/vision_zoo.h"

#include <map>

namespace repro {

namespace {

std::map<std::string, VisionZooRecipe> make_recipes() {
  std::map<std::string, VisionZooRecipe> r;
  {
    VisionZooRecipe z;
    z.name = "cnn_fmnist";
    z.purpose =
        "cnn_gn_small (78k parameters) pretrained on Fashion-MNIST; the embedded upstream model of the DP "
        "fine-tuning tables (downstream: mnist10k)";
    z.architecture = "cnn_gn_small";
    z.dataset = "fashion-mnist";
    z.seed = 1;
    // Two epochs of the 60k training images: a few minutes on 2 CPU cores, and features good
    // enough that a private linear probe on MNIST digits is far above chance.
    z.train.epochs = 2;
    z.train.batch_size = 128;
    z.train.lr = 2e-3;
    r[z.name] = z;
  }
  return r;
}

const std::map<std::string, VisionZooRecipe>& recipes() {
  static const auto r = make_recipes();
  return r;
}

}  // namespace

const VisionZooRecipe* find_vision_zoo_recipe(const std::string& name) {
  auto it = recipes().find(name);
  return it == recipes().end() ? nullptr : &it->second;
}

std::vector<std::string> vision_zoo_names() {
  std::vector<std::string> out;
  for (const auto& [k, v] : recipes()) out.push_back(k);
  return out;
}

}  // namespace repro
