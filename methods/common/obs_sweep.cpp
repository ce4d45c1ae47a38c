#include "methods/common/obs_sweep.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"
#include "methods/common/intra_op.h"

namespace repro {

namespace {

// One column's GPTQ step on CPU fp32, fused: err = (w_j - q) * dinv; rows j+1.. of the sub-block
// -= u_r * err; w_j = q. `after` points at row j+1, `u` at the n_after coefficients U_bb[b, b+1..].
void column_step_cpu(float* w, const float* q, float dinv, float* err, float* after, const float* u,
                     int64_t n_after, int64_t out) {
  for (int64_t k = 0; k < out; ++k) err[k] = (w[k] - q[k]) * dinv;
  for (int64_t r = 0; r < n_after; ++r) {
    float* row = after + r * out;
    const float c = u[r];
    for (int64_t k = 0; k < out; ++k) row[k] -= c * err[k];
  }
  for (int64_t k = 0; k < out; ++k) w[k] = q[k];
}

// A window of width w is current at its start when it lies inside one block and inside one
// sub-block (eager updates) or starts on a sub-block boundary (the rest of the block is current).
bool sub_ok(int64_t sub, int64_t w) { return sub % w == 0 || w % sub == 0; }
}  // namespace

SweepOptions choose_blocking(SweepOptions req, const std::vector<int64_t>& windows) {
  constexpr int64_t kMaxBlock = 1 << 14;
  SweepOptions o = req;
  o.block_size = std::max<int64_t>(1, o.block_size);
  int64_t l = 1;
  for (int64_t w : windows)
    if (w > 1) l = std::lcm(l, w);
  if (l > kMaxBlock)
    throw NotSupported(fmt::format("column windows {} need a block of {} columns", fmt::join(windows, ", "), l));
  o.block_size = l * std::max<int64_t>(1, o.block_size / l);
  if (o.block_size > kMaxBlock) o.block_size = l;
  int64_t sub = std::clamp<int64_t>(o.sub_block, 1, o.block_size);
  for (;; sub = std::max<int64_t>(1, sub / 2)) {
    bool ok = o.block_size % sub == 0;
    for (int64_t w : windows) ok = ok && (w <= 1 || sub_ok(sub, w));
    if (ok || sub == 1) break;
  }
  o.sub_block = sub;
  return o;
}

void obs_sweep(at::Tensor& Wt, const at::Tensor& R, ColumnRule& rule, SweepOptions req, const OriginalRows& original) {
  REPRO_ASSERT(Wt.dim() == 2 && Wt.is_contiguous() && R.dim() == 2 && R.size(0) == Wt.size(0) &&
                   R.size(1) == Wt.size(0),
               "obs_sweep: Wt must be [in, out] contiguous and R [in, in]");
  const SweepOptions o = choose_blocking(req, rule.windows());
  const int64_t in = Wt.size(0), out = Wt.size(1);
  const at::Tensor W0 = original ? at::Tensor() : Wt.clone();
  at::Tensor Err = at::empty({o.block_size, out}, Wt.options());
  const at::Tensor eye = at::eye(o.block_size, R.options());
  // CPU fp32: the per-column step is one fused loop (ATen dispatch and, with several threads, the
  // thread pool handoff of a tiny rank-1 update cost more than the arithmetic).
  const bool cpu = Wt.is_cpu() && Wt.scalar_type() == at::kFloat && R.scalar_type() == at::kFloat;
  SerialIntraOp serial(Wt.is_cpu());  // see intra_op.h

  for (int64_t i1 = 0; i1 < in; i1 += o.block_size) {
    const int64_t i2 = std::min(i1 + o.block_size, in), nb = i2 - i1;
    at::Tensor Wb = Wt.narrow(0, i1, nb);
    const at::Tensor W0b = original ? original(i1, nb) : W0.narrow(0, i1, nb);
    REPRO_ASSERT(W0b.sizes() == Wb.sizes(), "obs_sweep: original rows have the wrong shape");
    // U's diagonal block, GPTQ's Hinv1.
    const at::Tensor Ubb = at::linalg_solve_triangular(R.narrow(0, i1, nb).narrow(1, i1, nb),
                                                       eye.narrow(0, 0, nb).narrow(1, 0, nb), /*upper=*/true)
                               .contiguous();
    const at::Tensor dinv = Ubb.diagonal().reciprocal();
    const float* dinv_host = cpu ? dinv.data_ptr<float>() : nullptr;
    // Pending updates A (held as Wb - W0b) -> GPTQ's current weights: W0b + (A Ubb), transposed.
    if (i1 > 0) {
      at::Tensor A = Err.narrow(0, 0, nb);
      at::sub_out(A, Wb, W0b);
      Wb.copy_(W0b).addmm_(Ubb.t(), A);
    }
    rule.begin_block(i1, Wb, Ubb.diagonal());
    for (int64_t s1 = i1; s1 < i2; s1 += o.sub_block) {
      const int64_t s2 = std::min(s1 + o.sub_block, i2);
      for (int64_t j = s1; j < s2; ++j) {
        const int64_t b = j - i1;
        at::Tensor w = Wt.select(0, j);
        at::Tensor q = rule.fix(j, Wt.narrow(0, j, i2 - j));
        at::Tensor err = Err.select(0, b);
        if (cpu) {
          at::Tensor qc = q.contiguous();
          column_step_cpu(w.data_ptr<float>(), qc.data_ptr<float>(), dinv_host[b], err.data_ptr<float>(),
                          w.data_ptr<float>() + out, Ubb.data_ptr<float>() + b * nb + b + 1, s2 - j - 1, out);
          continue;
        }
        at::sub_out(err, w, q).mul_(dinv.select(0, b));
        if (j + 1 < s2) Wt.narrow(0, j + 1, s2 - j - 1).addr_(Ubb.select(0, b).narrow(0, b + 1, s2 - j - 1), err, 1, -1);
        w.copy_(q);
      }
      if (s2 < i2)
        Wt.narrow(0, s2, i2 - s2)
            .addmm_(Ubb.narrow(0, s1 - i1, s2 - s1).narrow(1, s2 - i1, i2 - s2).t(), Err.narrow(0, s1 - i1, s2 - s1),
                    1, -1);
    }
    // Accumulate (W0 - Q) R into the later columns.
    if (i2 < in) {
      at::Tensor D = Err.narrow(0, 0, nb);
      at::sub_out(D, W0b, Wb);
      Wt.narrow(0, i2, in - i2).addmm_(R.narrow(0, i1, nb).narrow(1, i2, in - i2).t(), D);
    }
  }
}

}  // namespace repro
