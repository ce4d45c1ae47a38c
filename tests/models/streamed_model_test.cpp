// Random checkpoints in HF's sharded layout and the block-by-block reader: what the layer-wise
// engine needs to compress a model larger than memory.
#include "tests/catch.h"

#include <fstream>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/memory.h"
#include "models/checkpoint.h"
#include "models/llama_io.h"
#include "models/random_checkpoint.h"
#include "models/streamed_model.h"
#include "tests/models/models_test_util.h"
#include "tests/test_util.h"

using namespace repro;

namespace {

LlamaConfig wide_config(int64_t layers) {
  LlamaConfig c = test::tiny_config();
  c.hidden_size = 512;
  c.intermediate_size = 1536;
  c.num_attention_heads = 8;
  c.num_key_value_heads = 4;
  c.head_dim = 64;
  c.num_hidden_layers = layers;
  return c;
}

}  // namespace

TEST_CASE("random checkpoints: sharded HF layout, values independent of sharding, loadable", "[models][streaming]") {
  test::TempDir a, b;
  const LlamaConfig c = test::tiny_config();
  RandomCheckpointOptions o;
  o.dtype = at::kFloat;
  o.seed = 7;
  o.progress = false;
  o.shard_bytes = 20000;  // several shards
  const auto s = write_random_checkpoint(c, a.path(), o);
  CHECK(s.shards > 1);
  CHECK(std::filesystem::exists(a / "model.safetensors.index.json"));
  CHECK(std::filesystem::exists(a / ("model-00001-of-0000" + std::to_string(s.shards) + ".safetensors")));
  o.shard_bytes = 1ll << 40;  // one shard
  const auto s1 = write_random_checkpoint(c, b.path(), o);
  CHECK(s1.shards == 1);
  CHECK(s1.parameters == s.parameters);

  auto ma = load_causal_lm(a.path());
  auto mb = load_causal_lm(b.path());
  CHECK(ma->num_parameters() == s.parameters);
  for (auto& pa : ma->named_parameters()) {
    INFO(pa.name);
    bool found = false;
    for (auto& pb : mb->named_parameters())
      if (pb.name == pa.name) {
        found = true;
        CHECK(at::equal(*pa.tensor, *pb.tensor));
      }
    CHECK(found);
  }
  // HF's init: weights ~ N(0, 0.02), norms 1.
  const at::Tensor w = ma->block(1).gate_proj.weight;
  CHECK(std::abs(w.std().item<double>() - 0.02) < 0.003);
  CHECK(at::equal(ma->block(0).input_layernorm, at::ones_like(ma->block(0).input_layernorm)));

  // A different seed changes every weight; the stored dtype follows the option.
  test::TempDir d;
  o.seed = 8;
  o.dtype = at::kBFloat16;
  write_random_checkpoint(c, d.path(), o);
  CheckpointReader r(d.path());
  CHECK(r.info("model.layers.0.mlp.up_proj.weight").dtype == safetensors::Dtype::BF16);
  auto md = load_causal_lm(d.path());
  CHECK_FALSE(at::allclose(md->block(1).gate_proj.weight, w, 0, 0.01));
}

TEST_CASE("model shape presets are the published configs", "[models][streaming]") {
  const LlamaConfig c = model_shape_preset("llama3-8b");
  CHECK(c.hidden_size == 4096);
  CHECK(c.intermediate_size == 14336);
  CHECK(c.num_hidden_layers == 32);
  CHECK(c.num_key_value_heads == 8);
  CHECK(c.vocab_size == 128256);
  // 8.03 B parameters (Meta's model card: 8B; untied embeddings).
  const int64_t n = CausalLM(c).num_parameters();
  CHECK(n == 8030261248);
  CHECK(CausalLM(model_shape_preset("llama3-70b")).num_parameters() == 70553706496);
  CHECK(test::error_of<ConfigError>([] { model_shape_preset("llama9-1t"); }).find("llama3-8b") != std::string::npos);
}

TEST_CASE("a streamed model gives the same forward as the loaded one, one block at a time", "[models][streaming]") {
  test::TempDir dir;
  RandomCheckpointOptions o;
  o.dtype = at::kFloat;
  o.progress = false;
  o.shard_bytes = 30000;
  write_random_checkpoint(test::tiny_config(), dir.path(), o);
  auto full = load_causal_lm(dir.path());
  const at::Tensor tokens = at::randint(97, {2, 9}, at::TensorOptions().dtype(at::kLong));
  at::NoGradGuard no_grad;
  const at::Tensor want = full->forward(tokens);

  StreamedModel sm(dir.path(), at::kFloat);
  CausalLM& m = sm.model();
  CHECK_FALSE(m.embed_tokens.defined());
  sm.load_embeddings();
  at::Tensor h = m.embed(tokens);
  sm.release_embeddings();
  CHECK_FALSE(m.embed_tokens.defined());
  const at::Tensor pos = at::arange(9, at::TensorOptions().dtype(at::kLong));
  for (int64_t i = 0; i < m.num_layers(); ++i) {
    sm.load_block(i);
    CHECK(at::equal(m.block(i).q_proj.weight, full->block(i).q_proj.weight));
    h = m.block(i).forward(h, pos);
    sm.release_block(i);
    CHECK_FALSE(m.block(i).q_proj.weight.defined());
  }
  sm.load_head();
  CHECK(at::equal(m.head(h), want));
  sm.release_head();
  CHECK(sm.block_bytes(0) == (4 * 32 * 32 + 3 * 32 * 48 + 2 * 32) * 4 - 2 * 16 * 32 * 4);
}

TEST_CASE("streaming a checkpoint holds about one block, not the model", "[models][streaming]") {
  test::TempDir dir;
  RandomCheckpointOptions o;
  o.dtype = at::kFloat;
  o.progress = false;
  o.shard_bytes = 16 << 20;
  write_random_checkpoint(wide_config(10), dir.path(), o);
  StreamedModel sm(dir.path(), at::kFloat);
  const double block_mb = static_cast<double>(sm.block_bytes(0)) / (1 << 20);
  const double model_mb = block_mb * 10;
  const double start = host_current_rss_mb();
  double peak = start;
  for (int64_t i = 0; i < 10; ++i) {
    sm.load_block(i);
    // Touch the weights as a forward would.
    CHECK(std::isfinite(sm.model().block(i).down_proj.weight.sum().item<double>()));
    peak = std::max(peak, host_current_rss_mb());
    sm.release_block(i);
  }
  INFO("block " << block_mb << " MiB, model " << model_mb << " MiB, RSS growth " << peak - start << " MiB");
  CHECK(block_mb > 10);
  // One block loaded at a time, and the file's mapped pages dropped once copied: well under the
  // model (a reader that kept the mapping resident would grow by the whole 10 blocks).
  CHECK(peak - start < 3.5 * block_mb);
}
