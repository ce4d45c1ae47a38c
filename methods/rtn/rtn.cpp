// Round-to-nearest weight quantization on per-(row, group) uniform grids.

#include "core/run_context.h"
#include "methods/api/layer_compressor.h"
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
      i.params = quant_params({.bits = 4, .group_size = 128});
      return i;
    }();
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }

  void configure(const Params& params) override {
    QuantSettings q = read_quant(params);
    opts_ = q.grid;
    group_size_ = q.group_size;
  }

  bool needs_hessian() const override { return false; }

  // A few passes over W (rounding every weight to its group's grid); memory: W's copy and its codes or mask.
  double solve_flops(int64_t out, int64_t in) const override { return 10.0 * static_cast<double>(out) * static_cast<double>(in); }
  double solve_bytes(int64_t out, int64_t in) const override { return 9.0 * static_cast<double>(out) * static_cast<double>(in); }

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
