#include "methods/common/obs_sweep.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"

namespace repro {

namespace {
// Windows of width w are served when they do not cross a block end (or start at a block start)
// and either lie inside one sub-block or start on a sub-block boundary.
bool block_ok(int64_t block, int64_t w) { return block % w == 0 || w % block == 0; }
bool sub_ok(int64_t sub, int64_t w) { return sub % w == 0 || w % sub == 0; }
}  // namespace

SweepOptions choose_blocking(SweepOptions req, const std::vector<int64_t>& windows) {
  SweepOptions o = req;
  o.block_size = std::max<int64_t>(1, o.block_size);
  for (int64_t w : windows)
    if (w > 1 && !block_ok(o.block_size, w)) o.block_size = w * std::max<int64_t>(1, o.block_size / w);
  for (int64_t w : windows)
    if (w > 1 && !block_ok(o.block_size, w))
      throw NotSupported(fmt::format("column windows {} cannot share a block of {} columns",
                                     fmt::join(windows, ", "), o.block_size));
  int64_t sub = std::clamp<int64_t>(o.sub_block, 1, o.block_size);
  for (;; sub = std::max<int64_t>(1, sub / 2)) {
    bool ok = o.block_size % sub == 0;
    for (int64_t w : windows) ok = ok && (w <= 1 || sub_ok(sub, w));
    if (ok || sub == 1) break;
  }
  o.sub_block = sub;
  return o;
}

void obs_sweep(at::Tensor& Wt, at::Tensor R, ColumnRule& rule, SweepOptions req) {
  REPRO_ASSERT(Wt.dim() == 2 && Wt.is_contiguous() && R.dim() == 2 && R.size(0) == Wt.size(0) &&
                   R.size(1) == Wt.size(0),
               "obs_sweep: Wt must be [in, out] contiguous and R [in, in]");
  const SweepOptions o = choose_blocking(req, rule.windows());
  const int64_t in = Wt.size(0), out = Wt.size(1);
  const at::Tensor d = R.diagonal().reciprocal();  // U_jj
  at::Tensor C = R.mul_(d.unsqueeze(0));           // C_ij = R_ij / R_jj
  const at::Tensor W0 = Wt.clone();
  at::Tensor D = at::empty({o.block_size, out}, Wt.options());  // W0 - Q of the block's columns

  for (int64_t i1 = 0; i1 < in; i1 += o.block_size) {
    const int64_t i2 = std::min(i1 + o.block_size, in);
    rule.begin_block(i1, Wt.narrow(0, i1, i2 - i1), d.narrow(0, i1, i2 - i1));
    for (int64_t s1 = i1; s1 < i2; s1 += o.sub_block) {
      const int64_t s2 = std::min(s1 + o.sub_block, i2);
      for (int64_t j = s1; j < s2; ++j) {
        at::Tensor q = rule.fix(j, Wt.narrow(0, j, in - j));
        at::Tensor dj = D.select(0, j - i1);
        at::sub_out(dj, W0.select(0, j), q);
        if (j + 1 < s2) Wt.narrow(0, j + 1, s2 - j - 1).addr_(C.select(0, j).narrow(0, j + 1, s2 - j - 1), dj);
        Wt.select(0, j).copy_(q);
      }
      if (s2 < i2)
        Wt.narrow(0, s2, i2 - s2).addmm_(C.narrow(0, s1, s2 - s1).narrow(1, s2, i2 - s2).t(),
                                         D.narrow(0, s1 - i1, s2 - s1));
    }
    if (i2 < in)
      Wt.narrow(0, i2, in - i2).addmm_(C.narrow(0, i1, i2 - i1).narrow(1, i2, in - i2).t(), D.narrow(0, 0, i2 - i1));
  }
}

}  // namespace repro
