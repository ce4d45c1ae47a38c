#include "tests/catch.h"

#include <atomic>
#include <cmath>
#include <thread>

#include <ATen/ATen.h>

#include <ATen/core/grad_mode.h>

#include "core/error.h"
#include "core/run_context.h"
#include "core/table_spec.h"
#include "methods/api/block_refiner.h"
#include "methods/api/layer_compressor.h"
#include "methods/common/layer_error.h"
#include "models/llama.h"
#include "suites/engine/hessian_accumulator.h"
#include "suites/engine/hessian_cache.h"
#include "suites/engine/layerwise_engine.h"
#include "tests/test_util.h"

using namespace repro;

namespace {

RunOptions quiet() {
  RunOptions o;
  o.progress = false;
  o.log_level = "off";
  return o;
}

LlamaConfig small_config() {
  LlamaConfig c;
  c.vocab_size = 64;
  c.hidden_size = 32;
  c.intermediate_size = 64;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.head_dim = 8;
  c.max_position_embeddings = 64;
  c.tie_word_embeddings = true;
  return c;
}

std::unique_ptr<LayerCompressor> make(const std::string& name, Value::Table params) {
  auto m = Registry<LayerCompressor>::instance().create(name);
  m->configure(Params::validate(Value(std::move(params)), m->info().params, "compressor"));
  return m;
}

at::Tensor tokens(int64_t n, int64_t T, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randint(0, 64, {n, T}, gen, at::TensorOptions().dtype(at::kLong));
}

}  // namespace

TEST_CASE("hessian accumulator: equals (2/n) X^T X whatever the batching", "[suites][engine]") {
  at::manual_seed(0);
  at::Tensor X = at::randn({6, 5, 8});  // 6 sequences of 5 tokens
  HessianAccumulator a(8, at::kCPU);
  a.add(X.slice(0, 0, 1));
  a.add(X.slice(0, 1, 4));
  a.add(X[4]);  // one sequence given as [T, in]
  a.add(X.slice(0, 5, 6));
  at::Tensor flat = X.reshape({-1, 8});
  at::Tensor expect = at::matmul(flat.t(), flat) * (2.0 / 6.0);
  CHECK(a.n_samples() == 6);
  CHECK(at::allclose(a.H(), expect, 1e-5, 1e-5));
}

TEST_CASE("engine: data-free compression compresses every linear and the model runs compressed", "[suites][engine]") {
  RunContext ctx(quiet());
  auto model = CausalLM::random(small_config(), 1);
  auto m = make("magnitude", {{"pattern", Value("2:4")}});
  EngineReport r = compress_model(*model, tokens(4, 16, 2), *m, EngineOptions{}, ctx);
  REQUIRE(r.layers.size() == 14);
  CHECK(r.bits_per_weight() == Approx(9.0));
  CHECK(r.params_kept() == Approx(0.5));
  for (int64_t i = 0; i < 2; ++i)
    for (const auto& name : DecoderBlock::linear_names()) {
      const Linear& lin = model->block(i).linear(name);
      REQUIRE(lin.compressed);
      // 2 of every 4 input columns kept.
      at::Tensor groups = lin.compressed->mask().reshape({lin.compressed->out_features(), -1, 4}).sum(-1);
      CHECK(at::equal(groups, at::full_like(groups, 2)));
    }
  at::NoGradGuard g;
  at::Tensor logits = model->forward(tokens(2, 8, 3));
  CHECK(logits.size(2) == 64);
  CHECK(at::isfinite(logits).all().item<bool>());
}

TEST_CASE("engine: calibration is sequential, and the Hessian cache is shared and invalidated correctly",
          "[suites][engine]") {
  test::TempDir dir;
  RunContext ctx(quiet());
  at::Tensor calib = tokens(8, 16, 5);
  EngineOptions o;
  o.cache_dir = dir.path();
  o.model_fingerprint = "model-a";
  o.calibration_fingerprint = "calib-a";
  o.keep_hessians = true;

  auto sgpt = make("sparsegpt", {{"sparsity", Value(0.5)}});
  o.upstream_spec = "sparsegpt(0.5)";
  auto model = CausalLM::random(small_config(), 1);
  auto dense = CausalLM::random(small_config(), 1);
  EngineReport first = compress_model(*model, calib, *sgpt, o, ctx);
  CHECK(first.cache_misses == 2);
  CHECK(first.cache_hits == 0);

  // Block 1's Hessian is computed on what the COMPRESSED block 0 outputs.
  {
    at::NoGradGuard g;
    HessianAccumulator acc(32, at::kCPU), dense_acc(32, at::kCPU);
    at::Tensor pos = at::arange(16, at::TensorOptions().dtype(at::kLong));
    model->block(1).q_proj.on_input = [&](const at::Tensor& x) { acc.add(x); };
    model->block(1).forward(model->block(0).forward(model->embed(calib), pos), pos);
    dense->block(1).q_proj.on_input = [&](const at::Tensor& x) { dense_acc.add(x); };
    dense->block(1).forward(dense->block(0).forward(dense->embed(calib), pos), pos);
    const at::Tensor& engine_H = first.hessians.at("model.layers.1.self_attn.q_proj");
    CHECK(at::allclose(engine_H, acc.H(), 1e-4, 1e-5));
    CHECK_FALSE(at::allclose(engine_H, dense_acc.H(), 1e-3, 1e-4));
    model->block(1).q_proj.on_input = nullptr;
  }

  // The same row again: every block's Hessians come from the cache.
  ctx.reset_counters();
  auto again = CausalLM::random(small_config(), 1);
  EngineReport second = compress_model(*again, calib, *sgpt, o, ctx);
  CHECK(second.cache_hits == 2);
  CHECK(ctx.counter("hessian_cache_hits") == 2);
  CHECK(at::allclose(second.hessians.at("model.layers.1.mlp.down_proj"),
                     first.hessians.at("model.layers.1.mlp.down_proj")));

  // Another method: block 0 (which no method touched yet) is shared, block 1 is not.
  auto wanda = make("wanda", {{"sparsity", Value(0.5)}});
  o.upstream_spec = "wanda(0.5)";
  auto third_model = CausalLM::random(small_config(), 1);
  EngineReport third = compress_model(*third_model, calib, *wanda, o, ctx);
  CHECK(third.cache_hits == 1);
  CHECK(third.cache_misses == 1);

  // Other calibration data: nothing is reused.
  o.calibration_fingerprint = "calib-b";
  auto fourth_model = CausalLM::random(small_config(), 1);
  EngineReport fourth = compress_model(*fourth_model, tokens(4, 16, 6), *wanda, o, ctx);
  CHECK(fourth.cache_hits == 0);
}

TEST_CASE("engine: sequential order calibrates o_proj after q/k/v are compressed", "[suites][engine]") {
  RunContext ctx(quiet());
  at::Tensor calib = tokens(8, 16, 7);
  auto sgpt = make("sparsegpt", {{"sparsity", Value(0.6)}});
  EngineOptions par, seq;
  par.keep_hessians = seq.keep_hessians = true;
  seq.order = "sequential";
  auto a = CausalLM::random(small_config(), 3);
  auto b = CausalLM::random(small_config(), 3);
  EngineReport rp = compress_model(*a, calib, *sgpt, par, ctx);
  EngineReport rs = compress_model(*b, calib, *sgpt, seq, ctx);
  const std::string q = "model.layers.0.self_attn.q_proj", o = "model.layers.0.self_attn.o_proj";
  CHECK(at::allclose(rp.hessians.at(q), rs.hessians.at(q), 1e-5, 1e-6));
  CHECK_FALSE(at::allclose(rp.hessians.at(o), rs.hessians.at(o), 1e-4, 1e-5));
  // The per-layer error is reported on the calibration Hessian and is small but non-zero.
  for (const auto& l : rp.layers) {
    CHECK(l.rel_error > 0);
    CHECK(l.rel_error < 1);
  }
}

namespace {

// Needs input samples: records what the engine hands it and keeps the weight (dense, as a mask of
// ones), so the model's function is unchanged.
class SampleRecorder final : public LayerCompressor {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info{"test_sample_recorder", LayerCompressor::kFamily,
                                 "test only: records its input samples", "", "1", {}};
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }
  void configure(const Params&) override {}
  bool needs_inputs() const override { return true; }
  CompressedLinear compress(const LayerProblem& p, RunContext&) override {
    seen().push_back({p.name, p.X, p.H});
    CompressedLinear c;
    c.set_sparse(p.W, at::ones_like(p.W, p.W.options().dtype(at::kBool)));
    return c;
  }
  struct Seen {
    std::string name;
    at::Tensor X, H;
  };
  static std::vector<Seen>& seen() {
    static std::vector<Seen> s;
    return s;
  }
};

// Checks its targets against a dense copy of the model and counts its calls.
class TargetChecker final : public BlockRefiner {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info{"test_target_checker", BlockRefiner::kFamily,
                                 "test only: compares targets with the dense block", "", "1", {}};
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }
  void configure(const Params&) override {}
  void refine(DecoderBlock& block, const BlockIO& io, RunContext&) override {
    at::NoGradGuard g;
    REQUIRE(dense_model() != nullptr);
    at::Tensor want = dense_model()->block(block.layer_index()).forward(io.inputs, io.positions);
    max_error() = std::max(max_error(), (want - io.targets).abs().max().item<double>());
    ++calls();
  }
  static CausalLM*& dense_model() {
    static CausalLM* m = nullptr;
    return m;
  }
  static double& max_error() {
    static double e = 0;
    return e;
  }
  static int& calls() {
    static int n = 0;
    return n;
  }
};

}  // namespace

REPRO_REGISTER_METHOD(LayerCompressor, SampleRecorder);
REPRO_REGISTER_METHOD(BlockRefiner, TargetChecker);

TEST_CASE("engine: input samples for needs_inputs(), bounded and consistent with H", "[suites][engine]") {
  RunContext ctx(quiet());
  auto model = CausalLM::random(small_config(), 4);
  SampleRecorder rec;
  SampleRecorder::seen().clear();
  EngineOptions o;
  o.input_samples = 1000;  // more than the 8 * 16 tokens: every row
  compress_model(*model, tokens(8, 16, 7), rec, o, ctx);
  REQUIRE(SampleRecorder::seen().size() == 14);
  for (const auto& s : SampleRecorder::seen()) {
    INFO(s.name);
    REQUIRE(s.X.defined());
    CHECK(s.X.size(0) == 8 * 16);
    CHECK(at::allclose(at::matmul(s.X.t(), s.X) * (2.0 / 8.0), s.H, 1e-4, 1e-4));
  }
  // q, k and v read one input: the same samples.
  CHECK(at::equal(SampleRecorder::seen()[0].X, SampleRecorder::seen()[2].X));

  SampleRecorder::seen().clear();
  o.input_samples = 10;
  auto again = CausalLM::random(small_config(), 4);
  compress_model(*again, tokens(8, 16, 7), rec, o, ctx);
  REQUIRE(SampleRecorder::seen().size() == 14);
  for (const auto& s : SampleRecorder::seen()) CHECK(s.X.size(0) == 10);
}

TEST_CASE("engine: a refiner gets the dense block's outputs on the current inputs", "[suites][engine]") {
  RunContext ctx(quiet());
  auto model = CausalLM::random(small_config(), 5);
  auto dense = CausalLM::random(small_config(), 5);
  TargetChecker::dense_model() = dense.get();
  TargetChecker::max_error() = 0;
  TargetChecker::calls() = 0;
  TargetChecker refiner;
  // A compressor that keeps the function: the inputs of every block are then dense too, and the
  // dense copy's block outputs must equal the targets.
  SampleRecorder keep;
  EngineOptions o;
  EngineReport with = compress_model(*model, tokens(4, 16, 8), keep, o, ctx, &refiner);
  CHECK(TargetChecker::calls() == 2);
  CHECK(TargetChecker::max_error() < 1e-5);
  CHECK(with.targets_mb > 0);
  auto plain = CausalLM::random(small_config(), 5);
  EngineReport without = compress_model(*plain, tokens(4, 16, 8), keep, o, ctx);
  CHECK(without.targets_mb == 0);

  // Sequential order takes the targets from the first, still dense, pass.
  TargetChecker::calls() = 0;
  TargetChecker::max_error() = 0;
  auto seq_model = CausalLM::random(small_config(), 5);
  o.order = "sequential";
  compress_model(*seq_model, tokens(4, 16, 8), keep, o, ctx, &refiner);
  CHECK(TargetChecker::calls() == 2);
  CHECK(TargetChecker::max_error() < 1e-5);
  TargetChecker::dense_model() = nullptr;
}

TEST_CASE("engine: the transforms' spec is part of every Hessian cache key", "[suites][engine]") {
  test::TempDir dir;
  RunContext ctx(quiet());
  auto sgpt = make("sparsegpt", {{"sparsity", Value(0.5)}});
  EngineOptions o;
  o.cache_dir = dir.path();
  o.model_fingerprint = "m";
  o.calibration_fingerprint = "c";
  o.upstream_spec = "sparsegpt";
  auto a = CausalLM::random(small_config(), 6);
  EngineReport first = compress_model(*a, tokens(4, 16, 9), *sgpt, o, ctx);
  CHECK(first.cache_misses == 2);
  auto b = CausalLM::random(small_config(), 6);
  EngineReport second = compress_model(*b, tokens(4, 16, 9), *sgpt, o, ctx);
  CHECK(second.cache_hits == 2);
  o.transforms_spec = "hadamard()@1";
  auto c = CausalLM::random(small_config(), 6);
  EngineReport third = compress_model(*c, tokens(4, 16, 9), *sgpt, o, ctx);
  CHECK(third.cache_hits == 0);  // block 0 too: the transform changed its inputs
  CHECK(third.cache_misses == 2);
}

TEST_CASE("engine: NaN/Inf in a weight, a compressed weight or the activations ends the row naming the layer",
          "[suites][engine][nonfinite]") {
  RunContext ctx(quiet());
  auto fresh = [] { return CausalLM::random(small_config(), 3); };
  auto expect = [](auto&& run, const std::string& layer, const std::string& what) {
    try {
      run();
      FAIL("expected NonFiniteError");
    } catch (const NonFiniteError& e) {
      INFO(e.what());
      CHECK(std::string(e.what()).find(layer) != std::string::npos);
      CHECK(std::string(e.what()).find(what) != std::string::npos);
    }
  };
  SECTION("a NaN in the checkpoint, data-free and calibrated methods alike") {
    for (const char* method : {"rtn", "gptq"}) {
      auto model = fresh();
      model->block(1).linear("down_proj").weight.index_put_({0, 3}, std::nan(""));
      auto m = make(method, {{"bits", Value(int64_t{4})}});
      expect([&] { compress_model(*model, tokens(4, 16, 2), *m, EngineOptions{}, ctx); }, "model.layers.1.mlp.down_proj",
             "the weight (before compression)");
    }
  }
  SECTION("NaN activations entering a layer: its calibration Hessian is refused, naming it") {
    auto model = fresh();
    model->block(1).post_attention_layernorm.index_put_({5}, std::nan(""));
    auto m = make("gptq", {{"bits", Value(int64_t{4})}});
    expect([&] { compress_model(*model, tokens(4, 16, 2), *m, EngineOptions{}, ctx); }, "model.layers.1.mlp.gate_proj",
           "calibration Hessian");
  }
}

TEST_CASE("hessian cache: concurrent writers and readers of one key only ever see a whole entry",
          "[suites][engine][cache]") {
  test::TempDir dir;
  HessianCache cache(dir.path() / "hessians");
  std::atomic<int> torn{0}, hits{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int k = 0; k < 25; ++k) {
        CachedHessians h;
        h.H["q_proj"] = at::full({64, 64}, static_cast<float>(t * 100 + k));
        h.n_samples = t * 100 + k;
        cache.store("samekey", h);
        if (auto got = cache.load("samekey")) {
          ++hits;
          const at::Tensor& H = got->H.at("q_proj");
          // Every entry is one writer's: constant, and equal to its own n_samples.
          if (!at::equal(H, at::full_like(H, static_cast<float>(got->n_samples)))) ++torn;
        }
      }
    });
  for (auto& th : threads) th.join();
  CHECK(torn == 0);
  CHECK(hits == 100);
  // No temporary file of a writer is left behind.
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path() / "hessians")) files += 1, (void)e;
  CHECK(files == 1);
}
