#include "training/zoo.h"

#include <map>

#include <fmt/format.h>

#include "core/error.h"
#include "core/strings.h"

namespace repro {

namespace {

LlamaConfig base_config(int64_t vocab, int64_t d, int64_t layers, int64_t heads, int64_t kv_heads, int64_t ff) {
  LlamaConfig c;
  c.model_type = "llama";
  c.vocab_size = vocab;
  c.hidden_size = d;
  c.intermediate_size = ff;
  c.num_hidden_layers = layers;
  c.num_attention_heads = heads;
  c.num_key_value_heads = kv_heads;
  c.head_dim = d / heads;
  c.rms_norm_eps = 1e-5;
  c.rope_theta = 10000.0;
  c.max_position_embeddings = 256;
  c.tie_word_embeddings = true;
  c.bos_token_id = 1;
  c.eos_token_ids = {2};
  c.torch_dtype = "float16";
  return c;
}

std::map<std::string, ZooRecipe> make_recipes() {
  std::map<std::string, ZooRecipe> r;
  {
    ZooRecipe z;
    z.name = "micro";
    z.purpose = "about 1M parameters; trains on a CPU in minutes; used by tests and quick checks";
    z.tokenizer_vocab = 2048;
    z.config = base_config(z.tokenizer_vocab, 128, 2, 4, 2, 384);
    z.train.seqlen = 256;
    z.train.batch_size = 16;
    z.train.steps = 600;
    z.train.warmup = 50;
    z.train.lr = 3e-3;
    z.train.min_lr = 3e-4;
    z.train.eval_every = 200;
    z.train.checkpoint_every = 100;
    z.train.seed = 1;
    z.valid_windows = 32;
    r[z.name] = z;
  }
  {
    ZooRecipe z;
    z.name = "tiny";
    z.purpose = "about 7M parameters; the embedded default model of the paper tables";
    z.tokenizer_vocab = 8192;
    z.config = base_config(z.tokenizer_vocab, 256, 6, 8, 4, 768);
    z.train.seqlen = 256;
    z.train.batch_size = 32;
    // 800 steps (6.6M tokens, about 0.9 epoch) take about an hour on 2 CPU cores; longer runs
    // lower the perplexity further but the tables only need a model that pruning hurts measurably.
    z.train.steps = 800;
    z.train.warmup = 100;
    z.train.lr = 2e-3;
    z.train.min_lr = 2e-4;
    z.train.eval_every = 250;
    z.train.checkpoint_every = 25;
    z.train.seed = 1;
    z.valid_windows = 64;
    r[z.name] = z;
  }
  return r;
}

const std::map<std::string, ZooRecipe>& recipes() {
  static const auto r = make_recipes();
  return r;
}

}  // namespace

const ZooRecipe& zoo_recipe(const std::string& name) {
  auto it = recipes().find(name);
  if (it == recipes().end())
    throw ConfigError(fmt::format("no zoo recipe '{}'{}; recipes: {}", name, did_you_mean(name, zoo_names()),
                                  join(zoo_names(), ", ")));
  return it->second;
}

std::vector<std::string> zoo_names() {
  std::vector<std::string> out;
  for (const auto& [k, v] : recipes()) out.push_back(k);
  return out;
}

}  // namespace repro
