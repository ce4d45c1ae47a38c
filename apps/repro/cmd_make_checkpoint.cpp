// repro make-checkpoint --shape llama3-8b --out DIR: a checkpoint of random weights in a published
// model's shapes and Hugging Face's sharded layout (models/random_checkpoint.h), with a tokenizer
// copied from a small model so that tables can run on it. For measuring memory and time at scale
// without downloading a model: `repro reproduce scale/llama3_8b_stream --model DIR`.

#include <iostream>

#include <fmt/format.h>

#include "apps/repro/cli.h"
#include "core/error.h"
#include "core/paths.h"
#include "core/strings.h"
#include "models/llama_io.h"
#include "models/random_checkpoint.h"

namespace repro::cli {

namespace fs = std::filesystem;

int cmd_make_checkpoint(int argc, char** argv) {
  std::string shape, out, dtype = "bfloat16", tokenizer_from = "zoo:tiny";
  uint64_t seed = 0;
  int64_t layers = -1;
  double shard_gb = 4.0;
  bool config_only = false;
  po::options_description desc("repro make-checkpoint options");
  desc.add_options()
      ("shape", po::value(&shape)->required(), ("architecture: " + join(model_shape_presets(), ", ")).c_str())
      ("out", po::value(&out)->required(), "output folder (config.json, model-*.safetensors, the index, a tokenizer)")
      ("dtype", po::value(&dtype)->default_value(dtype), "stored dtype: bfloat16, float16 or float32")
      ("seed", po::value(&seed)->default_value(seed), "seed of the weights (each tensor's values depend on it and its name)")
      ("layers", po::value(&layers)->default_value(layers), "number of decoder blocks (-1: the architecture's)")
      ("shard-gb", po::value(&shard_gb)->default_value(shard_gb), "close a shard once it holds this many GiB")
      ("config-only", po::bool_switch(&config_only), "write config.json (and the tokenizer) only: enough for `repro reproduce --dry-run` to plan a run")
      ("tokenizer-from", po::value(&tokenizer_from)->default_value(tokenizer_from),
       "copy tokenizer.json / tokenizer.model from this model folder (or zoo:<name>); 'none' to skip");
  po::positional_options_description pos;
  po::variables_map vm;
  if (!parse(argc, argv, desc, pos, vm, "repro make-checkpoint --shape NAME --out DIR [options]")) return 0;
  if (shard_gb <= 0) throw UsageError("--shard-gb must be positive");
  if (layers == 0 || layers < -1) throw UsageError("--layers must be positive (or -1 for the architecture's)");

  RandomCheckpointOptions o;
  o.dtype = dtype_from_name(dtype);
  o.seed = seed;
  o.num_layers = layers;
  o.shard_bytes = static_cast<int64_t>(shard_gb * static_cast<double>(1ll << 30));
  o.config_only = config_only;
  const LlamaConfig config = model_shape_preset(shape);
  const fs::path dir(out);
  const RandomCheckpointSummary s = write_random_checkpoint(config, dir, o);

  // The tokenizer: a random model has none of its own; a small model's ids are all below the
  // architecture's vocabulary, so tables tokenize their data with it.
  std::string tok_note = "no tokenizer";
  if (tokenizer_from != "none") {
    const fs::path src = resolve_model_path(tokenizer_from);
    int copied = 0;
    for (const char* f : {"tokenizer.json", "tokenizer.model", "tokenizer_config.json"}) {
      std::error_code ec;
      if (!fs::is_regular_file(src / f, ec)) continue;
      fs::copy_file(src / f, dir / f, fs::copy_options::overwrite_existing, ec);
      if (ec) throw IoError(fmt::format("{}: cannot copy {} ({})", (dir / f).string(), f, ec.message()));
      ++copied;
    }
    if (copied == 0) throw ModelError(fmt::format("--tokenizer-from {}: {} holds no tokenizer file", tokenizer_from, src.string()));
    tok_note = "tokenizer from " + tokenizer_from;
  }
  if (config_only) {
    std::cout << fmt::format("{}: config.json of {} ({:.2f} B parameters, no weights), {}\n", dir.string(), shape,
                             static_cast<double>(s.parameters) / 1e9, tok_note);
    return 0;
  }
  std::cout << fmt::format("{}: {} ({} blocks), {:.2f} B parameters, {:.1f} GiB in {} shard(s) of {}, {}; {:.0f} s\n",
                           dir.string(), shape, layers > 0 ? layers : config.num_hidden_layers,
                           static_cast<double>(s.parameters) / 1e9, static_cast<double>(s.bytes) / (1ll << 30), s.shards,
                           dtype, tok_note, s.seconds);
  return 0;
}

}  // namespace repro::cli
