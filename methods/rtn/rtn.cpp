// Round-to-nearest weight quantization on per-(row, group) uniform grids (specs/quantization.md §3.1).

#include "methods/api.h"
#include "methods/common/intra_op.h"
#include "methods/common/quant_grid.h"

namespace repro {
namespace {

class Rtn final : public LayerCompressor {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info = [] {
      MethodInfo i;
      i.name = "rtn";
      i.family = LayerCompressor::kFamily;
      i.summary = "round-to-nearest quantization, per channel or per group, optional MSE clipping search";
      i.paper = "baseline (see Frantar et al. 2023, arXiv 2210.17323)";
      i.version = "1";
      i.params = {
          param_int("bits", 4, "bits per weight, 2..8"),
          param_int("group_size", 128, "input columns per (scale, zero); -1: one per output channel"),
          param_bool("sym", false, "symmetric grid (zero = 2^(bits-1)) instead of asymmetric min-max"),
          param_bool("clip_search", false, "MSE search over range shrink factors 1.00..0.21 (norm 2.4)"),
      };
      return i;
    }();
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }

  void configure(const Params& params) override {
    opts_.bits = static_cast<int>(params.get_int("bits"));
    if (opts_.bits < 2 || opts_.bits > 8) params.fail("bits", "must be in 2..8");
    group_size_ = params.get_int("group_size");
    if (group_size_ == 0 || group_size_ < -1) params.fail("group_size", "must be -1 (per channel) or positive");
    opts_.sym = params.get_bool("sym");
    opts_.clip_search = params.get_bool("clip_search");
  }

  bool needs_hessian() const override { return false; }

  CompressedLinear compress(const LayerProblem& problem, RunContext&) override {
    SerialIntraOp serial(problem.W.is_cpu());  // see intra_op.h
    CompressedLinear c;
    c.set_quant(quantize_rtn(problem.W.to(at::kFloat), opts_, group_size_));
    return c;
  }

 private:
  QuantGridOptions opts_;
  int64_t group_size_ = 128;
};

REPRO_REGISTER_METHOD(LayerCompressor, Rtn);

}  // namespace
}  // namespace repro
