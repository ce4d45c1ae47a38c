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

void obs_sweep(at::Tensor& Wt, const at::Tensor& U, ColumnRule& rule, SweepOptions req) {
  REPRO_ASSERT(Wt.dim() == 2 && Wt.is_contiguous() && U.dim() == 2 && U.size(0) == Wt.size(0) &&
                   U.size(1) == Wt.size(0),
               "obs_sweep: Wt must be [in, out] contiguous and U [in, in]");
  const SweepOptions o = choose_blocking(req, rule.windows());
  const int64_t in = Wt.size(0), out = Wt.size(1);
  at::Tensor dinv = U.diagonal().reciprocal();  // [in]
  at::Tensor Err = at::empty({o.block_size, out}, Wt.options());

  for (int64_t i1 = 0; i1 < in; i1 += o.block_size) {
    const int64_t i2 = std::min(i1 + o.block_size, in);
    rule.begin_block(i1, Wt.narrow(0, i1, i2 - i1), U.diagonal().narrow(0, i1, i2 - i1));
    for (int64_t s1 = i1; s1 < i2; s1 += o.sub_block) {
      const int64_t s2 = std::min(s1 + o.sub_block, i2);
      for (int64_t j = s1; j < s2; ++j) {
        at::Tensor w = Wt.select(0, j);
        at::Tensor q = rule.fix(j, Wt.narrow(0, j, in - j));
        at::Tensor err = Err.select(0, j - i1);
        at::sub_out(err, w, q).mul_(dinv.select(0, j));
        if (j + 1 < s2) Wt.narrow(0, j + 1, s2 - j - 1).addr_(U.select(0, j).narrow(0, j + 1, s2 - j - 1), err, 1, -1);
        w.copy_(q);
      }
      if (s2 < i2)
        Wt.narrow(0, s2, i2 - s2)
            .addmm_(U.narrow(0, s1, s2 - s1).narrow(1, s2, i2 - s2).t(), Err.narrow(0, s1 - i1, s2 - s1), 1, -1);
    }
    if (i2 < in)
      Wt.narrow(0, i2, in - i2)
          .addmm_(U.narrow(0, i1, i2 - i1).narrow(1, i2, in - i2).t(), Err.narrow(0, 0, i2 - i1), 1, -1);
  }
}

}  // namespace repro
