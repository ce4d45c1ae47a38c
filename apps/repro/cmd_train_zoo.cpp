// repro train-zoo <name>: trains a zoo model on the embedded corpus (resumable) and writes
// models/zoo/<name>/ with its tokenizer, TRAINING.md and loss curve; image recipes
// (training/vision_zoo.h) go to cmd_train_zoo_vision.cpp.

#include <fstream>
#include <iostream>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "apps/repro/cli.h"
#include "core/environment.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/paths.h"
#include "core/store.h"
#include "core/strings.h"
#include "datasets/text_datasets.h"
#include "datasets/token_windows.h"
#include "models/llama.h"
#include "models/llama_io.h"
#include "models/sentencepiece_tokenizer.h"
#include "models/tokenizer.h"
#include "report/gnuplot.h"
#include "suites/eval/perplexity.h"
#include "training/vision_zoo.h"
#include "training/zoo.h"

namespace repro::cli {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  for (auto& l : split(text, '\n'))
    if (!l.empty()) out.push_back(std::move(l));
  return out;
}

void plot_loss(const fs::path& log_csv, const fs::path& out_png, const std::string& name) {
  fs::path script = log_csv.parent_path() / "loss.gp";
  std::ofstream gp(script);
  gp << "set datafile separator ','\nset terminal pngcairo size 800,450\n"
     << "set output '" << fs::absolute(out_png).string() << "'\n"
     << "set title 'zoo:" << name << " training'\nset xlabel 'step'\nset ylabel 'train loss (nats/token)'\n"
     << "set y2label 'held-out perplexity'\nset y2tics\nset ytics nomirror\nset key top right\nset grid\n"
     << "plot 'log.csv' every ::1 using 1:3 with lines lw 2 title 'train loss', "
     << "'' every ::1 using 1:($4 > 0 ? $4 : 1/0) axes x1y2 with linespoints pt 7 title 'held-out ppl'\n";
  gp.close();
  report::run_gnuplot(script);
}

}  // namespace

int cmd_train_zoo(int argc, char** argv) {
  CommonOptions common;
  std::string name, out_dir, work_dir;
  int64_t steps = 0, stop_after = 0;
  po::options_description desc("repro train-zoo options");
  desc.add_options()
      ("name", po::value(&name)->required(), "zoo recipe: micro, tiny (language) or cnn_fmnist (image)")
      ("out", po::value(&out_dir), "output folder (default: <project>/models/zoo/<name>)")
      ("work-dir", po::value(&work_dir), "checkpoints and log (default: <project>/.cache/zoo-train/<name>)")
      ("steps", po::value(&steps)->default_value(0), "override the recipe's step count (for quick trials)")
      ("stop-after", po::value(&stop_after)->default_value(0),
       "stop (with a checkpoint) after this many steps in all; run again to continue");
  add_common_options(desc, common);
  po::positional_options_description pos;
  pos.add("name", 1);
  po::variables_map vm;
  if (!parse(argc, argv, desc, pos, vm, "repro train-zoo <name> [options]")) return 0;
  configure_process(common);

  if (const VisionZooRecipe* vr = find_vision_zoo_recipe(name))
    return train_vision_zoo(*vr, out_dir.empty() ? project_root() / "models" / "zoo" / name : fs::path(out_dir),
                            common);
  ZooRecipe recipe = zoo_recipe(name);
  if (steps > 0) recipe.train.steps = steps;
  recipe.train.stop_after = stop_after;
  const fs::path out = out_dir.empty() ? project_root() / "models" / "zoo" / name : fs::path(out_dir);
  const fs::path work = work_dir.empty() ? project_root() / ".cache" / "zoo-train" / name : fs::path(work_dir);
  const fs::path data_dir = common.data_dir.empty() ? project_root() / "data" : fs::path(common.data_dir);
  RunOptions ro = make_run_options(common);
  ro.seed = recipe.train.seed;
  RunContext ctx(ro);
  fs::create_directories(work);

  TextSplit train = load_text_split("embedded", data_dir, "train");
  TextSplit valid = load_text_split("embedded", data_dir, "valid");
  TextSplit test = load_text_split("embedded", data_dir, "test");

  // The tokenizer is trained once per recipe and kept in the work folder (deterministic given the
  // corpus and the seed).
  const fs::path tok_path = work / "tokenizer.model";
  if (!fs::exists(tok_path)) {
    ctx.log().info("training a {}-piece SentencePiece BPE tokenizer on {} ({} MB)", recipe.tokenizer_vocab,
                   train.source.string(), train.text.size() / 1000000);
    SentencePieceTrainOptions so;
    so.vocab_size = recipe.tokenizer_vocab;
    so.seed = static_cast<uint32_t>(recipe.train.seed);
    so.num_threads = 2;
    train_sentencepiece(lines_of(train.text), tok_path, so);
  }
  fs::create_directories(work / "tokenizer");
  fs::copy_file(tok_path, work / "tokenizer" / "tokenizer.model", fs::copy_options::overwrite_existing);
  auto tokenizer = Tokenizer::load(work / "tokenizer");
  TokenCache token_cache(work / "tokens");
  TokenizeOptions to;
  to.cache = &token_cache;
  to.tokenizer_fingerprint = sha256_file(tok_path);
  at::Tensor train_ids = tokenize_split(train, *tokenizer, to);
  at::Tensor valid_windows = eval_windows(tokenize_split(valid, *tokenizer, to), recipe.train.seqlen, recipe.valid_windows);
  ctx.log().info("corpus: {} training tokens, {} held-out windows of {}", train_ids.size(0), valid_windows.size(0),
                 recipe.train.seqlen);

  LlamaConfig config = recipe.config;
  config.vocab_size = tokenizer->vocab_size();
  auto model = CausalLM::random(config, recipe.train.seed);
  ctx.log().info("zoo:{}: {} parameters, {} steps of {} x {} tokens", name, model->num_parameters(), recipe.train.steps,
                 recipe.train.batch_size, recipe.train.seqlen);
  TrainResult result = train_causal_lm(*model, train_ids, valid_windows, recipe.train, work, ctx);
  if (!result.finished) {
    std::cout << fmt::format("zoo:{}: stopped at step {} of {} (checkpoint in {}); run the same command again to go on\n",
                             name, result.steps, recipe.train.steps, work.string());
    return 0;
  }

  // Write the model as users will load it, then measure it the way the perplexity suite does:
  // reloaded from disk (fp16 weights, fp32 compute), every window of the embedded test split.
  const c10::ScalarType saved = parse_dtype(recipe.saved_dtype);
  fs::create_directories(out);
  save_causal_lm(*model, out, saved);
  fs::copy_file(tok_path, out / "tokenizer.model", fs::copy_options::overwrite_existing);
  auto reloaded = load_causal_lm(out, at::kFloat, ctx.device());
  at::Tensor test_windows = eval_windows(tokenize_split(test, *tokenizer, to), recipe.train.seqlen);
  PerplexityResult test_ppl = evaluate_perplexity(*reloaded, test_windows, 8, ctx, "test ppl");
  PerplexityResult valid_ppl =
      evaluate_perplexity(*reloaded, eval_windows(tokenize_split(valid, *tokenizer, to), recipe.train.seqlen), 8, ctx,
                          "valid ppl");
  plot_loss(work / "log.csv", out / "loss.png", name);
  fs::copy_file(work / "log.csv", out / "log.csv", fs::copy_options::overwrite_existing);

  double hours = result.log.empty() ? 0 : result.log.back().elapsed_s / 3600.0;
  const nlohmann::json env = capture_environment();
  std::string md = fmt::format(
      "# zoo:{name}\n\n{purpose}.\n\n"
      "A LLaMA-architecture causal LM trained by ReproBench on the embedded corpus (`scripts/build-corpus.sh`:\n"
      "Austen, Brown corpus, World English Bible, Spurgeon's Treasury of David, Matthew Henry's commentary;\n"
      "public domain or redistributable, see `datasets/README.md`). It exists so that every table runs\n"
      "without downloading weights; its numbers are not comparable to the papers' models, only the\n"
      "orderings and gaps between methods are.\n\n"
      "## Reproduce\n\n```sh\nscripts/build-corpus.sh\nbuild/apps/repro/repro train-zoo {name}\n```\n\n"
      "Training is resumable: interrupt it and run the same command again.\n\n"
      "## Model\n\n| | |\n|---|---|\n"
      "| parameters | {params} |\n| layers | {layers} |\n| hidden / intermediate | {d} / {ff} |\n"
      "| heads / kv heads / head dim | {h} / {kv} / {hd} |\n| vocabulary | {vocab} (SentencePiece BPE, byte fallback) |\n"
      "| tied embeddings | yes |\n| context | {seq} |\n| stored as | {dtype} safetensors |\n\n"
      "## Training\n\n| | |\n|---|---|\n"
      "| seed | {seed} |\n| steps | {steps} |\n| batch | {batch} sequences x {seq} tokens |\n"
      "| tokens seen | {tokens:.1f} M (corpus: {corpus:.1f} M training tokens) |\n"
      "| optimizer | AdamW (0.9, 0.95), weight decay {wd}, gradient clip {clip} |\n"
      "| learning rate | {lr} peak, {warm} warmup steps, cosine to {minlr} |\n"
      "| wall time | {hours:.2f} h on the machine below |\n\n"
      "## Result\n\n"
      "Perplexity of the saved checkpoint (fp32 compute), non-overlapping windows of {seq} tokens,\n"
      "the convention of the perplexity suite:\n\n"
      "| split | windows | perplexity |\n|---|---|---|\n"
      "| embedded test | {tw} | **{tppl:.3f}** |\n| embedded valid | {vw} | {vppl:.3f} |\n\n"
      "`repro reproduce examples/dense_ppl` reports the test number.\n\n"
      "Perplexity is per token, so it depends on the tokenizer: zoo:micro (2048 pieces) and zoo:tiny\n"
      "(8192 pieces) cut the same text into different numbers of tokens, and their perplexities are not\n"
      "comparable with each other. Compare methods on one model.\n\n"
      "![loss curve](loss.png)\n\n(`log.csv` holds the curve's data.)\n\n"
      "Machine: {cpu}, {cores} cores, libtorch {torch}, BLAS {blas}.\n",
      fmt::arg("name", name), fmt::arg("purpose", recipe.purpose), fmt::arg("params", model->num_parameters()),
      fmt::arg("layers", config.num_hidden_layers), fmt::arg("d", config.hidden_size),
      fmt::arg("ff", config.intermediate_size), fmt::arg("h", config.num_attention_heads),
      fmt::arg("kv", config.num_key_value_heads), fmt::arg("hd", config.head_dim), fmt::arg("vocab", config.vocab_size),
      fmt::arg("seq", recipe.train.seqlen), fmt::arg("dtype", recipe.saved_dtype), fmt::arg("seed", recipe.train.seed),
      fmt::arg("steps", recipe.train.steps), fmt::arg("batch", recipe.train.batch_size),
      fmt::arg("tokens", static_cast<double>(recipe.train.steps * recipe.train.batch_size * recipe.train.seqlen) / 1e6),
      fmt::arg("corpus", static_cast<double>(train_ids.size(0)) / 1e6), fmt::arg("wd", recipe.train.weight_decay),
      fmt::arg("clip", recipe.train.grad_clip), fmt::arg("lr", recipe.train.lr), fmt::arg("warm", recipe.train.warmup),
      fmt::arg("minlr", recipe.train.min_lr), fmt::arg("hours", hours), fmt::arg("tw", test_ppl.windows),
      fmt::arg("tppl", test_ppl.ppl), fmt::arg("vw", valid_ppl.windows), fmt::arg("vppl", valid_ppl.ppl),
      fmt::arg("cpu", env["cpu"].get<std::string>()), fmt::arg("cores", std::thread::hardware_concurrency()), fmt::arg("torch", env["libtorch"].get<std::string>()),
      fmt::arg("blas", env["blas"].get<std::string>()));
  write_file_atomic(out / "TRAINING.md", md);
  std::cout << fmt::format("zoo:{}: test perplexity {:.3f} ({} windows); wrote {}\n", name, test_ppl.ppl,
                           test_ppl.windows, out.string());
  return 0;
}

}  // namespace repro::cli
