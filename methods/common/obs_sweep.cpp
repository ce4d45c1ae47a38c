#include "methods/common/obs_sweep.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"

namespace repro {

SweepOptions choose_blocking(SweepOptions req, int64_t w) {
  SweepOptions o = req;
  o.block_size = std::max<int64_t>(1, o.block_size);
  o.sub_block = std::clamp<int64_t>(o.sub_block, 1, o.block_size);
  if (w <= 1) {
    o.sub_block = std::gcd(o.sub_block, o.block_size);
    return o;
  }
  // Windows must not cross a block end unless they start at a block start.
  if (o.block_size % w != 0 && w % o.block_size != 0) o.block_size = w * std::max<int64_t>(1, o.block_size / w);
  if (o.sub_block % w == 0 && o.block_size % o.sub_block == 0) {
    // Windows lie inside sub-blocks, whose columns are updated eagerly.
  } else {
    // Windows start on sub-block boundaries, where the rest of the block is current.
    o.sub_block = std::gcd(std::gcd(o.sub_block, w), o.block_size);
  }
  return o;
}

void obs_sweep(at::Tensor& Wt, const at::Tensor& U, ColumnRule& rule, SweepOptions req) {
  REPRO_ASSERT(Wt.dim() == 2 && Wt.is_contiguous() && U.dim() == 2 && U.size(0) == Wt.size(0) &&
                   U.size(1) == Wt.size(0),
               "obs_sweep: Wt must be [in, out] contiguous and U [in, in]");
  const SweepOptions o = choose_blocking(req, rule.window());
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
        at::Tensor q = rule.fix(j, Wt.narrow(0, j, i2 - j));
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
