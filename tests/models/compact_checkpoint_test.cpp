// The compact checkpoint: every kind of compressed linear (sparse, quantized, sparse + quantized,
// low-rank, act-order groups, fractional zero points, a plain weight) is written and read back to
// bit-identical parts and an identical forward; malformed folders are refused by name.

#include <ATen/ATen.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "models/compact_checkpoint.h"
#include "models/safetensors.h"
#include "tests/catch.h"
#include "tests/models/models_test_util.h"
#include "tests/test_util.h"

using namespace repro;
using repro::test::TempDir;

namespace {

QuantCodes random_codes(int64_t out, int64_t in, int bits, int64_t g, at::Generator& gen) {
  QuantCodes q;
  q.bits = bits;
  q.group_size = g;
  const int64_t groups = (in + g - 1) / g;
  q.codes = at::randint(0, int64_t{1} << bits, {out, in}, gen, at::kLong).to(at::kByte);
  q.scales = at::rand({out, groups}, gen) * 0.01 + 0.001;
  q.zeros = at::randint(0, int64_t{1} << bits, {out, groups}, gen, at::kLong).to(at::kFloat);
  return q;
}

// A tiny model whose 14 linears cover every part combination, the linear index choosing which.
std::unique_ptr<CausalLM> mixed_model() {
  auto m = CausalLM::random(test::tiny_config("qwen2"), 3);  // qwen2: q/k/v biases
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(17);
  int k = 0;
  for (int64_t i = 0; i < m->num_layers(); ++i)
    for (const auto& name : DecoderBlock::linear_names()) {
      Linear& lin = m->block(i).linear(name);
      const at::Tensor w = lin.weight;
      const int64_t out = w.size(0), in = w.size(1);
      at::Tensor mask = at::rand({out, in}, gen).gt(0.4);
      CompressedLinear c;
      switch (k++ % 7) {
        case 0: c.set_sparse(w, mask); break;
        case 1: c.set_quant(random_codes(out, in, 3, 16, gen)); break;  // 3 bits: codes straddle bytes
        case 2: {
          c.set_sparse(w, mask);
          c.set_quant(random_codes(out, in, 4, 8, gen));
          c.set_pattern(0, 0);
          break;
        }
        case 3: {  // a real 2:4 mask: the top 2 magnitudes of every 4 inputs
          at::Tensor g = w.reshape({out, in / 4, 4});
          at::Tensor m24 = at::zeros_like(g, at::kBool).scatter(-1, std::get<1>(g.abs().topk(2, -1)), true).reshape({out, in});
          c.set_sparse(w, m24);
          c.set_low_rank(at::randn({out, 3}, gen), at::randn({3, in}, gen) * 0.01);
          c.set_pattern(2, 4);
          break;
        }
        case 4: {
          QuantCodes q = random_codes(out, in, 4, 16, gen);
          q.g_idx = at::randperm(in, gen).div(16, "floor");  // act-order: any column -> group map
          q.zeros = q.zeros + 0.5;                          // not integers: stored as fp32
          c.set_quant(q);
          c.set_low_rank(at::randn({out, 2}, gen), at::randn({2, in}, gen) * 0.01);
          break;
        }
        case 5: c.set_dense(w * 0.5); break;
        case 6: continue;  // left dense
      }
      lin.compressed = std::make_shared<CompressedLinear>(std::move(c));
      lin.weight = at::Tensor();
    }
  return m;
}

void check_same_parts(const CompressedLinear& a, const CompressedLinear& b) {
  auto same = [](const at::Tensor& x, const at::Tensor& y) {
    return x.defined() == y.defined() && (!x.defined() || (x.sizes() == y.sizes() && at::equal(x, y)));
  };
  CHECK(same(a.mask(), b.mask()));
  CHECK(same(a.U(), b.U()));
  CHECK(same(a.V(), b.V()));
  CHECK(a.has_quant() == b.has_quant());
  if (a.has_quant()) {
    CHECK(a.quant().bits == b.quant().bits);
    CHECK(a.quant().group_size == b.quant().group_size);
    CHECK(same(a.quant().scales, b.quant().scales));
    CHECK(same(a.quant().zeros, b.quant().zeros));
    CHECK(same(a.quant().g_idx, b.quant().g_idx));
    // Codes outside the mask carry no information and are not stored.
    at::Tensor keep = a.has_sparse() ? a.mask() : at::ones_like(a.quant().codes, at::kBool);
    CHECK(at::equal(a.quant().codes.masked_select(keep), b.quant().codes.masked_select(keep)));
  }
  CHECK(at::equal(a.dense(), b.dense()));
  CHECK(a.stats().bits == b.stats().bits);
  CHECK(at::equal(a.base(), b.base()));
}

}  // namespace

TEST_CASE("compact checkpoint: every part round-trips bit for bit, and so does the forward", "[models][compact]") {
  auto m = mixed_model();
  TempDir dir("compact");
  save_compact_checkpoint(*m, dir.path());
  REQUIRE(is_compact_checkpoint(dir.path()));
  auto loaded = load_compact_checkpoint(dir.path());
  for (int64_t i = 0; i < m->num_layers(); ++i)
    for (const auto& name : DecoderBlock::linear_names()) {
      INFO(m->block(i).linear_path(name));
      const Linear& a = m->block(i).linear(name);
      const Linear& b = loaded->block(i).linear(name);
      REQUIRE(a.is_compressed() == b.is_compressed());
      if (a.is_compressed()) check_same_parts(*a.compressed, *b.compressed);
      else CHECK(at::equal(a.weight, b.weight));
      CHECK((!b.is_compressed() || !b.weight.defined()));
    }
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(5);
  at::Tensor tokens = at::randint(m->config().vocab_size, {2, 11}, gen, at::kLong);
  CHECK(at::equal(loaded->forward(tokens), m->forward(tokens)));

  // Compact means compact: the 3-bit codes of k_proj, [16, 32], take 12 bytes a row.
  SafetensorsFile f(dir / "compressed.safetensors");
  CHECK(f.info("model.layers.0.self_attn.k_proj.quant.codes").shape == std::vector<int64_t>{16, 12});
  CHECK(f.info("model.layers.0.self_attn.q_proj.sparse.mask").dtype == safetensors::Dtype::U8);
  CHECK(f.info("model.layers.0.self_attn.v_proj.quant.zeros").dtype == safetensors::Dtype::U8);
  CHECK(f.info("model.layers.0.mlp.gate_proj.quant.zeros").dtype == safetensors::Dtype::F32);
  CHECK(f.metadata().at("format") == "reprobench-compact");
  // The N:M pattern is recovered from the mask and the storage count: 2:4 where it was set.
  auto layout = nlohmann::json::parse(test::read_text(dir / "compression.json"));
  CHECK(layout["layers"]["model.layers.0.self_attn.o_proj"]["pattern"] == nlohmann::json{2, 4});
  CHECK(layout["layers"]["model.layers.0.self_attn.v_proj"]["pattern"] == nlohmann::json{0, 0});
}

TEST_CASE("compact checkpoint: malformed folders are refused with the file and tensor named", "[models][compact]") {
  auto m = mixed_model();
  TempDir dir("compact");
  save_compact_checkpoint(*m, dir.path());
  const std::filesystem::path layout = dir / "compression.json";
  const std::string original = test::read_text(layout);

  SECTION("another version") {
    auto j = nlohmann::json::parse(original);
    j["version"] = 99;
    test::write_text(layout, j.dump());
    CHECK_CONTAINS(test::error_of<ModelError>([&] { load_compact_checkpoint(dir.path()); }), "version 99");
  }
  SECTION("a layer whose shape disagrees with config.json") {
    auto j = nlohmann::json::parse(original);
    j["layers"]["model.layers.1.mlp.up_proj"]["shape"] = {48, 31};
    test::write_text(layout, j.dump());
    CHECK_CONTAINS(test::error_of<ModelError>([&] { load_compact_checkpoint(dir.path()); }), "model.layers.1.mlp.up_proj");
  }
  SECTION("a missing tensor") {
    auto j = nlohmann::json::parse(original);
    j["layers"]["model.layers.0.self_attn.q_proj"]["parts"] = {"sparse", "low_rank"};
    test::write_text(layout, j.dump());
    CHECK_CONTAINS(test::error_of<ModelError>([&] { load_compact_checkpoint(dir.path()); }),
                   "model.layers.0.self_attn.q_proj.low_rank.U");
  }
  SECTION("a compressed layer the layout calls dense") {
    auto j = nlohmann::json::parse(original);
    j["layers"].erase("model.layers.0.self_attn.q_proj");
    test::write_text(layout, j.dump());
    CHECK_CONTAINS(test::error_of<ModelError>([&] { load_compact_checkpoint(dir.path()); }),
                   "'model.layers.0.self_attn.q_proj.weight' is missing");
  }
  SECTION("a tensor the layout does not use") {
    auto j = nlohmann::json::parse(original);
    j["layers"]["model.layers.0.self_attn.o_proj"]["parts"] = {"sparse"};
    test::write_text(layout, j.dump());
    CHECK_CONTAINS(test::error_of<ModelError>([&] { load_compact_checkpoint(dir.path()); }), "does not use");
  }
}

TEST_CASE("checkpoint writers refuse models that run forward hooks", "[models][compact]") {
  auto m = CausalLM::random(test::tiny_config("llama"), 1);
  m->block(1).sim.down_hadamard = true;
  TempDir dir("compact");
  const std::string msg = test::error_of<NotSupported>([&] { save_compact_checkpoint(*m, dir.path()); });
  CHECK_CONTAINS(msg, "block 1");
  CHECK_CONTAINS(msg, "Hadamard");
}
