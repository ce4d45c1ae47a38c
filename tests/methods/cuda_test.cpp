// Every compressor on CUDA tensors (tagged [cuda]: skipped by the default test run and on machines
// without a GPU). Results may differ from the CPU's in rounding decisions, so the check is on the
// layer error and on the structure of the result.
#include <ATen/Context.h>

#include "methods/common/layer_error.h"
#include "methods/common/topk.h"
#include "tests/catch.h"
#include "tests/methods/method_test_util.h"

using namespace repro;

TEST_CASE("every compressor runs on CUDA tensors and matches its CPU result", "[methods][cuda]") {
  if (!at::hasCUDA()) {
    WARN("no CUDA device: skipped");
    return;
  }
  auto f = test::make_layer(64, 256, 1);
  test::LayerFixture g = f;
  g.W = f.W.cuda();
  g.H = f.H.cuda();
  RunOptions o;
  o.device = "cuda";
  o.progress = false;
  o.log_level = "off";
  RunContext ctx(o);
  struct Case {
    std::string method;
    Value::Table params;
  };
  const std::vector<Case> cases = {
      {"magnitude", {{"sparsity", 0.5}}},
      {"magnitude", {{"pattern", "2:4"}}},
      {"rtn", {{"bits", 4}, {"group_size", 64}, {"clip_search", true}}},
      {"wanda", {{"pattern", "2:4"}}},
      {"gptq", {{"bits", 3}, {"group_size", 64}}},
      {"gptq", {{"bits", 4}, {"act_order", true}}},
      {"sparsegpt", {{"sparsity", 0.5}}},
      {"sparsegpt", {{"pattern", "2:4"}, {"bits", 4}}},
      {"alps", {{"sparsity", 0.6}}},
      {"alps", {{"pattern", "2:4"}}},
      {"oats", {{"sparsity", 0.5}, {"rank", 8}, {"iterations", 10}}},
      {"admm_q", {{"bits", 3}, {"group_size", 64}}},
      {"admm_q", {{"bits", 4}, {"group_size", -1}, {"init", "rtn"}}},
  };
  for (const Case& c : cases) {
    INFO(c.method);
    CompressedLinear cpu = test::compress(c.method, c.params, f);
    CompressedLinear gpu = test::compress(c.method, c.params, g, ctx);
    at::Tensor dense = gpu.dense();
    CHECK(dense.is_cuda());
    double e_cpu = relative_error(f.W, cpu.dense(), f.H);
    double e_gpu = relative_error(g.W, dense, g.H);
    CHECK(std::abs(e_gpu - e_cpu) <= 0.05 * e_cpu + 1e-7);
    if (gpu.has_sparse() && c.params.count("pattern")) CHECK(satisfies_nm(gpu.mask().cpu(), {2, 4}, true));
    gpu.to(at::kCPU);
    CHECK(test::forward_mismatch(gpu) < 1e-5);
  }
}
