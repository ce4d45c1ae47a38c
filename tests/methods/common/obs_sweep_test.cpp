#include "methods/common/obs_sweep.h"

#include <ATen/ATen.h>

#include "core/error.h"
#include "methods/common/hessian.h"
#include "tests/catch.h"
#include "tests/methods/method_test_util.h"

using namespace repro;

namespace {

// A linear rule (q = 0.7 w) that also records the window rows it sees at window starts, so that a
// blocked sweep can be compared with the textbook one, decision for decision.
class RecordingRule : public ColumnRule {
 public:
  explicit RecordingRule(std::vector<int64_t> w) : w_(std::move(w)) {}
  std::vector<int64_t> windows() const override { return w_; }
  at::Tensor fix(int64_t j, const at::Tensor& ahead) override {
    for (int64_t w : w_)
      if (j % w == 0) seen.push_back(ahead.narrow(0, 0, std::min(w, ahead.size(0))).clone());
    return ahead.select(0, 0) * 0.7;
  }
  std::vector<at::Tensor> seen;

 private:
  std::vector<int64_t> w_;
};

// The unblocked sweep: every column's update applied to all later columns at once.
at::Tensor naive_sweep(at::Tensor Wt, const at::Tensor& U, RecordingRule& rule) {
  const int64_t in = Wt.size(0);
  for (int64_t j = 0; j < in; ++j) {
    at::Tensor q = rule.fix(j, Wt.narrow(0, j, in - j));
    at::Tensor err = (Wt[j] - q) / U[j][j];
    if (j + 1 < in) Wt.narrow(0, j + 1, in - j - 1).sub_(at::outer(U[j].narrow(0, j + 1, in - j - 1), err));
    Wt[j].copy_(q);
  }
  return Wt;
}

}  // namespace

TEST_CASE("choose_blocking serves every window", "[methods][obs]") {
  auto chk = [](SweepOptions o, std::vector<int64_t> w, int64_t block, int64_t sub) {
    SweepOptions r = choose_blocking(o, w);
    CHECK(r.block_size == block);
    CHECK(r.sub_block == sub);
  };
  chk({128, 16}, {}, 128, 16);
  chk({128, 16}, {4}, 128, 16);
  chk({128, 16}, {128}, 128, 16);
  chk({128, 16}, {4, 128}, 128, 16);
  chk({128, 16}, {256}, 256, 16);  // a window never spans two blocks
  chk({128, 16}, {96}, 96, 16);    // 96 = 6 * 16
  chk({128, 16}, {3}, 126, 1);
  chk({100, 16}, {}, 100, 4);
  chk({128, 16}, {32}, 128, 16);
  chk({128, 16}, {3, 4}, 120, 1);
  CHECK_THROWS_AS(choose_blocking({128, 16}, {1 << 15}), NotSupported);
}

TEST_CASE("the blocked sweep with R equals the textbook GPTQ sweep with U = R^-1", "[methods][obs]") {
  auto f = test::make_layer(24, 200, 5);
  RunContext& ctx = test::quiet_context();
  PreparedHessian h = prepare_hessian(f.H, {}, ctx);
  at::Tensor U = inverse_cholesky_upper(h, ctx);  // the textbook sweep uses GPTQ's Hinv factor
  at::Tensor R = reverse_cholesky_upper(h, ctx);  // the blocked one its inverse
  for (std::vector<int64_t> w : {std::vector<int64_t>{}, {4}, {8, 64}, {128}, {3}, {96}, {256}}) {
    for (SweepOptions o : {SweepOptions{128, 16}, SweepOptions{64, 8}, SweepOptions{200, 200}, SweepOptions{7, 3}}) {
      RecordingRule a(w), b(w);
      at::Tensor ref = naive_sweep(f.W.t().contiguous(), U, a);
      at::Tensor Wt = f.W.t().contiguous();
      obs_sweep(Wt, R, b, o);
      CHECK(at::allclose(Wt, ref, 1e-4, 1e-5));
      REQUIRE(a.seen.size() == b.seen.size());
      for (size_t i = 0; i < a.seen.size(); ++i) {
        INFO("window " << i << " of " << a.seen.size() << " max diff " << (a.seen[i] - b.seen[i]).abs().max().item<float>()
             << " sizes " << a.seen[i].size(0) << " " << b.seen[i].size(0) << " block " << o.block_size << " sub " << o.sub_block);
        CHECK(at::allclose(a.seen[i], b.seen[i], 1e-4, 1e-5));
      }
    }
  }
}

TEST_CASE("an identity rule leaves the weights unchanged", "[methods][obs]") {
  struct Keep : ColumnRule {
    at::Tensor fix(int64_t, const at::Tensor& ahead) override { return ahead.select(0, 0).clone(); }
  } keep;
  auto f = test::make_layer(16, 64, 6);
  PreparedHessian h = prepare_hessian(f.H, {}, test::quiet_context());
  at::Tensor Wt = f.W.t().contiguous();
  obs_sweep(Wt, reverse_cholesky_upper(h, test::quiet_context()), keep);
  CHECK(at::equal(Wt, f.W.t()));
}
