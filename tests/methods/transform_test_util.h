#pragma once
// Shared by the model-transform tests: zoo:micro loaded in fp32, token batches, running a
// registered transform by name with parameters as a config row does.

#include <memory>
#include <string>

#include <ATen/ATen.h>

#include "core/run_context.h"
#include "core/value.h"
#include "methods/api/model_transform.h"
#include "models/llama.h"
#include "models/llama_io.h"
#include "tests/methods/method_test_util.h"
#include "tests/test_util.h"

namespace repro::test {

inline std::unique_ptr<CausalLM> load_micro() {
  return load_causal_lm(source_root() / "models" / "zoo" / "micro", at::kFloat, at::kCPU);
}

// [n, T] random token ids of zoo:micro's vocabulary, from a seeded generator.
inline at::Tensor micro_tokens(int64_t n, int64_t T, uint64_t seed) {
  at::manual_seed(seed);
  return at::randint(3, 2048, {n, T}, at::TensorOptions().dtype(at::kLong));
}

inline void apply_transform(CausalLM& model, const std::string& name, const Value::Table& params,
                            const at::Tensor& calibration) {
  auto t = Registry<ModelTransform>::instance().create(name);
  t->configure(Params::validate(Value(params), t->info().params, name));
  t->apply(model, calibration, quiet_context());
}

// max |a - b| / max |b|: the logits comparisons below are relative to the largest logit.
inline double max_rel_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<double>() / b.abs().max().item<double>();
}

}  // namespace repro::test
