#include <ATen/ATen.h>

#include "core/error.h"
#include "methods/common/topk.h"
#include "tests/catch.h"
#include "tests/methods/method_test_util.h"

using namespace repro;
using repro::test::compress;

TEST_CASE("eora is never worse than its sparse compressor alone, and keeps its mask", "[methods][eora]") {
  for (uint64_t seed : {1, 2, 3}) {
    for (const char* pruner : {"sparsegpt", "alps"}) {
      for (const char* pattern : {"2:4", "unstructured"}) {
        auto f = test::make_layer(64, 128, seed);
        Value::Table sp{{"pattern", pattern}};
        if (std::string(pruner) == "alps") sp["max_iter"] = Value(int64_t{50});
        auto s = compress(pruner, sp, f);
        auto c = compress("eora", {{"pattern", pattern}, {"rank", 4}, {"pruner", pruner}, {"alps_max_iter", 50}}, f);
        const double es = test::rel_error(f, s), ec = test::rel_error(f, c);
        INFO(pruner << " " << pattern << " seed " << seed << " sparse " << es << " eora " << ec);
        CHECK(ec <= es);
        CHECK(ec < 0.99 * es);
        CHECK(at::equal(c.mask(), s.mask()));
        CHECK(at::allclose(c.sparse_values(), s.sparse_values()));
        CHECK(c.stats().low_rank_params == 4 * (64 + 128));
        CHECK(test::forward_mismatch(c) < 1e-5);
      }
    }
  }
  auto f = test::make_layer(16, 32, 4);
  CHECK_THROWS_AS(compress("eora", {{"rank", 17}}, f), NotSupported);
}
