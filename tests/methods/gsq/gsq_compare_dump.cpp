// A hidden test (run it by name) for comparing gsq with the authors' code on one block: it writes a
// random block with correlated inputs, its dense outputs and its GPTQ init (2-bit, g128, symmetric,
// MSE clip with negated scales) as raw little-endian fp32 files plus manifest.json into
// $GSQ_DUMP_DIR, then refines the block with gsq and prints the block MSE before / after and the
// time. The authors' per-layer training loop can then be run on the same files.
//   GSQ_DUMP_DIR=/tmp/gsq_dump build/tests/test_methods "[gsq_dump]"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "methods/api/block_refiner.h"
#include "models/llama.h"
#include "tests/catch.h"
#include "tests/methods/method_test_util.h"
#include "tests/models/models_test_util.h"

using namespace repro;

namespace {

void write_raw(const std::filesystem::path& dir, const std::string& name, const at::Tensor& t, nlohmann::json& manifest) {
  at::Tensor c = t.detach().to(at::kCPU, at::kFloat).contiguous();
  std::ofstream f(dir / (name + ".bin"), std::ios::binary);
  f.write(reinterpret_cast<const char*>(c.data_ptr<float>()), static_cast<std::streamsize>(c.numel() * sizeof(float)));
  manifest[name] = c.sizes().vec();
}

double mse(DecoderBlock& block, const BlockIO& io) {
  at::NoGradGuard g;
  return (block.forward(io.inputs, io.positions) - io.targets).square().mean().item<double>();
}

}  // namespace

TEST_CASE("dump one block and its GPTQ init for the authors' GSQ code, then run gsq", "[.][slow][gsq_dump]") {
  const char* env = std::getenv("GSQ_DUMP_DIR");
  if (!env) {
    WARN("GSQ_DUMP_DIR is not set: nothing to dump");
    return;
  }
  const std::filesystem::path dir(env);
  std::filesystem::create_directories(dir);
  const int64_t epochs = std::getenv("GSQ_EPOCHS") ? std::atoll(std::getenv("GSQ_EPOCHS")) : 10;

  LlamaConfig cfg = test::tiny_config();
  cfg.hidden_size = 128;
  cfg.intermediate_size = 256;
  cfg.num_attention_heads = 4;
  cfg.num_key_value_heads = 2;
  cfg.head_dim = 32;
  at::manual_seed(0);
  auto model = CausalLM::random(cfg, 0);
  DecoderBlock& block = model->block(0);
  const int64_t D = cfg.hidden_size, n = 64, T = 32;
  BlockIO io;
  at::Tensor mix = at::randn({D, D}) / std::sqrt(static_cast<double>(D)) + at::eye(D);
  io.inputs = at::matmul(at::randn({n, T, D}), mix);
  io.positions = at::arange(T, at::TensorOptions().dtype(at::kLong));
  io.batch_size = 4;
  nlohmann::json manifest;
  {
    at::NoGradGuard g;
    io.targets = block.forward(io.inputs, io.positions);
    std::map<std::string, at::Tensor> X;
    for (const std::string& name : DecoderBlock::linear_names())
      block.linear(name).on_input = [&X, name](const at::Tensor& x) { X[name] = x.reshape({-1, x.size(-1)}).to(at::kFloat); };
    block.forward(io.inputs, io.positions);
    write_raw(dir, "inputs", io.inputs, manifest);
    write_raw(dir, "targets", io.targets, manifest);
    write_raw(dir, "input_layernorm", block.input_layernorm, manifest);
    write_raw(dir, "post_attention_layernorm", block.post_attention_layernorm, manifest);
    for (const std::string& name : DecoderBlock::linear_names()) {
      Linear& lin = block.linear(name);
      lin.on_input = nullptr;
      test::LayerFixture f;
      f.W = lin.weight.to(at::kFloat);
      f.X = X.at(name);
      f.H = at::matmul(f.X.t(), f.X) * (2.0 / f.X.size(0));
      CompressedLinear c = test::compress(
          "gptq", {{"bits", 2}, {"group_size", 128}, {"sym", true}, {"clip_search", true}, {"clip_neg_scale", true}}, f);
      write_raw(dir, name + ".weight", f.W, manifest);
      write_raw(dir, name + ".gptq", c.quant().dequantize(), manifest);
      write_raw(dir, name + ".scales", c.quant().scales, manifest);
      lin.compressed = std::make_shared<CompressedLinear>(c);
      lin.weight = at::Tensor();
    }
  }
  std::ofstream(dir / "manifest.json") << manifest.dump(1);

  const double before = mse(block, io);
  auto gsq = Registry<BlockRefiner>::instance().create("gsq");
  gsq->configure(Params::validate(
      Value(Value::Table{{"epochs", epochs}, {"lr_logits", 2e-3}, {"lr_scales", 1e-4}, {"batch_size", 8}}),
      gsq->info().params, "refiner"));
  const auto t0 = std::chrono::steady_clock::now();
  gsq->refine(block, io, test::quiet_context());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double after = mse(block, io);
  std::cout << "ours: block MSE (mean) GPTQ init " << before << " -> gsq " << after << " in " << seconds << " s\n";
  {
    at::NoGradGuard g;
    for (const char* name : {"gate_proj", "up_proj", "down_proj"})
      write_raw(dir, std::string(name) + ".ours", block.linear(name).compressed->dense(), manifest);
  }
  std::ofstream(dir / "manifest.json") << manifest.dump(1);
  CHECK(after < before);
}
