#include "methods/common/transposable.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"
#include "methods/common/transposable_flow.h"

namespace repro {

namespace {

void check_blocks(const at::Tensor& t, const char* what) {
  REPRO_ASSERT(t.dim() == 3 && t.size(1) == t.size(2), std::string(what) + ": expected blocks [B, m, m]");
}

// Blocks per at::parallel_for chunk: enough work per task to hide the scheduling cost.
int64_t grain_blocks(int64_t m) { return std::max<int64_t>(1, 4096 / (m * m)); }

// A key that orders floats descending as unsigned integers (-0 and +0 equal, as in at::sort).
inline uint32_t descending_key(float f) {
  if (f == 0.0f) f = 0.0f;
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  const uint32_t ascending = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
  return ~ascending;
}

// ---- Dykstra ------------------------------------------------------------------------------------

constexpr float kTinySum = 1e-30f;

DykstraResult dykstra_batched(const at::Tensor& A, int64_t n, const DykstraOptions& o) {
  at::Tensor S = normalize_blocks(A).mul_(o.tau).exp_();
  at::Tensor Q = at::ones_like(S);
  const double nn = static_cast<double>(n);
  int64_t t = 0;
  while (t < o.iters) {
    S.mul_(S.sum(2, /*keepdim=*/true).clamp_min_(kTinySum).reciprocal_().mul_(nn));
    S.mul_(S.sum(1, /*keepdim=*/true).clamp_min_(kTinySum).reciprocal_().mul_(nn));
    S.mul_(Q);                     // P = S * Q, held in S
    at::clamp_min_out(Q, S, 1.0);  // Q = P / min(P, 1) = max(P, 1)
    S.clamp_max_(1.0);
    ++t;
    if (o.tol > 0 && t % o.check_every == 0 && t < o.iters) {
      const double dev = at::maximum(S.sum(2).sub_(nn).abs_().max(), S.sum(1).sub_(nn).abs_().max()).item<double>();
      if (dev < o.tol) break;
    }
  }
  return {S, t, static_cast<double>(t)};
}

// Sum of x[0..m): eight partial sums when m % 8 == 0, so that the compiler vectorises it.
inline float row_sum(const float* x, int64_t m) {
  if (m % 8 != 0) {
    float s = 0;
    for (int64_t j = 0; j < m; ++j) s += x[j];
    return s;
  }
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int64_t j = 0; j < m; j += 8)
    for (int k = 0; k < 8; ++k) acc[k] += x[j + k];
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

// One block, in place in S (which holds the raw scores on entry), in two passes per iteration
// over the cache-resident block: rows scaled while the column sums accumulate; then columns scaled
// fused with the capacity step while the next row sums accumulate. q: m * m, col and row: m floats
// of scratch. Returns the iterations run.
int64_t dykstra_block(float* S, float* q, float* col, float* row, int64_t m, float n, const DykstraOptions& o) {
  const int64_t mm = m * m;
  float mx = S[0], mn = S[0];
  for (int64_t k = 1; k < mm; ++k) {
    mx = std::max(mx, S[k]);
    mn = std::min(mn, S[k]);
  }
  const float range = mx - mn;
  const float scale = range > 0 ? static_cast<float>(o.tau) / range : 0.0f;
  for (int64_t k = 0; k < mm; ++k) {
    S[k] = std::exp((S[k] - mx) * scale);
    q[k] = 1.0f;
  }
  for (int64_t i = 0; i < m; ++i) row[i] = row_sum(S + i * m, m);
  int64_t t = 0;
  while (t < o.iters) {
    std::fill(col, col + m, 0.0f);
    for (int64_t i = 0; i < m; ++i) {
      float* r = S + i * m;
      const float f = n / std::max(row[i], kTinySum);
      for (int64_t j = 0; j < m; ++j) {
        r[j] *= f;
        col[j] += r[j];
      }
    }
    for (int64_t j = 0; j < m; ++j) col[j] = n / std::max(col[j], kTinySum);
    // P = S * Q, S = min(P, 1), Q = max(P, 1).
    for (int64_t i = 0; i < m; ++i) {
      float* r = S + i * m;
      float* qr = q + i * m;
      for (int64_t j = 0; j < m; ++j) {
        const float p = r[j] * col[j] * qr[j];
        r[j] = std::min(p, 1.0f);
        qr[j] = std::max(p, 1.0f);
      }
      row[i] = row_sum(r, m);
    }
    ++t;
    if (o.tol > 0 && t % o.check_every == 0 && t < o.iters) {
      float dev = 0;
      std::fill(col, col + m, 0.0f);
      for (int64_t i = 0; i < m; ++i) {
        dev = std::max(dev, std::abs(row[i] - n));
        for (int64_t j = 0; j < m; ++j) col[j] += S[i * m + j];
      }
      for (int64_t j = 0; j < m; ++j) dev = std::max(dev, std::abs(col[j] - n));
      if (dev < o.tol) break;
    }
  }
  return t;
}

DykstraResult dykstra_cpu(const at::Tensor& A, int64_t n, const DykstraOptions& o) {
  const int64_t B = A.size(0), m = A.size(1);
  at::Tensor S = A.contiguous().clone();
  float* s = S.data_ptr<float>();
  std::atomic<int64_t> most{0}, total{0};
  at::parallel_for(0, B, grain_blocks(m), [&](int64_t b0, int64_t b1) {
    std::vector<float> q(m * m), col(m), row(m);
    int64_t local_most = 0, local_total = 0;
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t t = dykstra_block(s + b * m * m, q.data(), col.data(), row.data(), m, static_cast<float>(n), o);
      local_most = std::max(local_most, t);
      local_total += t;
    }
    total += local_total;
    int64_t cur = most.load();
    while (local_most > cur && !most.compare_exchange_weak(cur, local_most)) {
    }
  });
  return {S, most.load(), B > 0 ? static_cast<double>(total.load()) / static_cast<double>(B) : 0.0};
}

// ---- greedy rounding ----------------------------------------------------------------------------

at::Tensor greedy_round_cpu(const at::Tensor& priority, const at::Tensor& A, int64_t n) {
  const int64_t B = A.size(0), m = A.size(1), mm = m * m;
  at::Tensor P = priority.contiguous(), Ac = A.contiguous();
  at::Tensor mask = at::zeros({B, m, m}, A.options().dtype(at::kBool));
  const float* p = P.data_ptr<float>();
  const float* a = Ac.data_ptr<float>();
  bool* out = mask.data_ptr<bool>();
  const int64_t target = n * m;
  at::parallel_for(0, B, grain_blocks(m), [&](int64_t b0, int64_t b1) {
    // (priority, A) as one descending 64-bit key; the index breaks the remaining ties.
    using Key = std::pair<uint64_t, int32_t>;
    std::vector<Key> keys(mm);
    std::vector<int64_t> rc(m), cc(m), top_r(m), top_c(m);
    for (int64_t b = b0; b < b1; ++b) {
      const float* pb = p + b * mm;
      const float* ab = a + b * mm;
      bool* ob = out + b * mm;
      for (int64_t k = 0; k < mm; ++k)
        keys[k] = {(uint64_t(descending_key(pb[k])) << 32) | descending_key(ab[k]), static_cast<int32_t>(k)};
      std::fill(rc.begin(), rc.end(), 0);
      std::fill(cc.begin(), cc.end(), 0);
      int64_t kept = 0;
      auto keep = [&](int64_t k) {
        ++rc[k / m];
        ++cc[k % m];
        ob[k] = true;
        ++kept;
      };
      auto visit = [&](auto first, auto last) {
        for (auto it = first; it != last && kept < target; ++it)
          if (rc[it->second / m] < n && cc[it->second % m] < n) keep(it->second);
      };
      // Only the first n * m entries in the order can fill the block, and among them the order
      // matters only for entries in a row or column holding more than n of them: every other one is
      // kept whatever comes first, and no constraint it touches can bind. Sort just the contested ones.
      auto mid = keys.begin() + target;
      std::nth_element(keys.begin(), mid, keys.end());
      std::fill(top_r.begin(), top_r.end(), 0);
      std::fill(top_c.begin(), top_c.end(), 0);
      for (auto it = keys.begin(); it != mid; ++it) ++top_r[it->second / m], ++top_c[it->second % m];
      auto contested_end = std::partition(
          keys.begin(), mid, [&](const Key& e) { return top_r[e.second / m] > n || top_c[e.second % m] > n; });
      for (auto it = contested_end; it != mid; ++it) keep(it->second);
      std::sort(keys.begin(), contested_end);
      visit(keys.begin(), contested_end);
      if (kept < target) {
        // Of the rest, only entries whose row and column both still have room can be kept (room
        // only shrinks): order just those.
        auto open_end =
            std::partition(mid, keys.end(), [&](const Key& e) { return rc[e.second / m] < n && cc[e.second % m] < n; });
        std::sort(mid, open_end);
        visit(mid, open_end);
      }
    }
  });
  return mask;
}

at::Tensor greedy_round_batched(const at::Tensor& priority, const at::Tensor& A, int64_t n) {
  const int64_t B = A.size(0), m = A.size(1), mm = m * m;
  at::Tensor p = priority.reshape({B, mm}), a = A.reshape({B, mm});
  // Lexicographic order (priority desc, A desc, index asc) by two stable sorts.
  at::Tensor by_a = std::get<1>(at::sort(a, /*stable=*/true, /*dim=*/1, /*descending=*/true));
  at::Tensor by_p = std::get<1>(at::sort(p.gather(1, by_a), /*stable=*/true, /*dim=*/1, /*descending=*/true));
  at::Tensor order = by_a.gather(1, by_p);
  at::Tensor rows = order.div(m, "floor"), cols = order.remainder(m);
  at::Tensor rc = at::zeros({B, m}, A.options().dtype(at::kInt)), cc = at::zeros_like(rc);
  at::Tensor mask = at::zeros({B, mm}, A.options().dtype(at::kBool));
  for (int64_t k = 0; k < mm; ++k) {
    at::Tensor i = rows.narrow(1, k, 1), j = cols.narrow(1, k, 1);
    at::Tensor ok = rc.gather(1, i).lt(n).logical_and_(cc.gather(1, j).lt(n));
    at::Tensor add = ok.to(at::kInt);
    rc.scatter_add_(1, i, add);
    cc.scatter_add_(1, j, add);
    mask.scatter_(1, order.narrow(1, k, 1), ok);
    if ((k + 1) % (2 * m) == 0 && k + 1 < mm && rc.eq(n).all().item<bool>()) break;
  }
  return mask.view({B, m, m});
}

// mask_flat[b, pos[b]] = value where cond[b]. mask_flat: [Ba, m*m] bool; pos: [Ba] int64; cond: [Ba] bool.
void set_where(at::Tensor& mask_flat, const at::Tensor& pos, const at::Tensor& cond, bool value) {
  at::Tensor p = pos.unsqueeze(1), c = cond.unsqueeze(1);
  at::Tensor cur = mask_flat.gather(1, p);
  mask_flat.scatter_(1, p, value ? cur.logical_or(c) : cur.logical_and(c.logical_not()));
}

at::Tensor repair_batched(const at::Tensor& A, at::Tensor& mask, int64_t n, int64_t max_steps) {
  const int64_t m = A.size(1);
  at::Tensor rc = mask.sum(2, false, at::kInt), cc = mask.sum(1, false, at::kInt);
  at::Tensor failed = rc.gt(n).any(1).logical_or_(cc.gt(n).any(1));
  at::Tensor active = rc.lt(n).any(1).logical_and_(failed.logical_not()).nonzero().squeeze(1);
  if (active.numel() == 0) return failed;
  at::Tensor As = A.index_select(0, active).to(at::kDouble), Ms = mask.index_select(0, active);
  const double neg_inf = -std::numeric_limits<double>::infinity();
  // Writes the blocks `which` (indices into the active set) back and drops them from it.
  auto retire = [&](const at::Tensor& which, bool infeasible) {
    at::Tensor where = active.index_select(0, which);
    mask.index_copy_(0, where, Ms.index_select(0, which));
    if (infeasible) failed.index_fill_(0, where, true);
  };
  auto keep_only = [&](const at::Tensor& keep) {
    active = active.index_select(0, keep);
    As = As.index_select(0, keep);
    Ms = Ms.index_select(0, keep);
  };
  for (int64_t step = 0;; ++step) {
    at::Tensor dr = Ms.sum(2, false, at::kInt).lt(n), dc = Ms.sum(1, false, at::kInt).lt(n);  // [Ba, m]
    // No row short means no column short either: both sums are the kept count and none is over n.
    at::Tensor done = dr.any(1).logical_not_();
    if (step == max_steps) {
      retire(done.nonzero().squeeze(1), false);
      retire(done.logical_not().nonzero().squeeze(1), true);
      break;
    }
    if (done.any().item<bool>()) {
      retire(done.nonzero().squeeze(1), false);
      at::Tensor keep = done.logical_not().nonzero().squeeze(1);
      if (keep.numel() == 0) break;
      keep_only(keep);
      dr = dr.index_select(0, keep);
      dc = dc.index_select(0, keep);
    }
    const int64_t Ba = active.numel();
    // Fill: a short row and a short column that meet at a free entry.
    at::Tensor fillable = dr.unsqueeze(2).logical_and(dc.unsqueeze(1)).logical_and_(Ms.logical_not());
    at::Tensor has_fill = fillable.flatten(1).any(1);
    at::Tensor fill_pos = at::where(fillable, As, neg_inf).flatten(1).argmax(1);
    // Swap around the first short row i and the first short column j (argmax returns the first).
    at::Tensor i = dr.to(at::kInt).argmax(1), j = dc.to(at::kInt).argmax(1);
    at::Tensor row_idx = i.view({Ba, 1, 1}).expand({Ba, 1, m}), col_idx = j.view({Ba, 1, 1}).expand({Ba, m, 1});
    at::Tensor row_i = Ms.gather(1, row_idx).squeeze(1), col_j = Ms.gather(2, col_idx).squeeze(2);  // [Ba, m]
    at::Tensor a_row_i = As.gather(1, row_idx).squeeze(1), a_col_j = As.gather(2, col_idx).squeeze(2);
    // valid[b, i', j']: mask[i', j'] = 1, mask[i, j'] = 0, mask[i', j] = 0.
    at::Tensor valid = Ms.logical_and(row_i.logical_not().unsqueeze(1)).logical_and_(col_j.logical_not().unsqueeze(2));
    at::Tensor gain = (a_row_i.unsqueeze(1) + a_col_j.unsqueeze(2)).sub_(As);
    at::Tensor swap_pos = at::where(valid, gain, neg_inf).flatten(1).argmax(1);
    at::Tensor has_swap = valid.flatten(1).any(1).logical_and_(has_fill.logical_not());
    at::Tensor ip = swap_pos.div(m, "floor"), jp = swap_pos.remainder(m);
    at::Tensor flat = Ms.view({Ba, m * m});
    set_where(flat, fill_pos, has_fill, true);
    set_where(flat, i * m + jp, has_swap, true);
    set_where(flat, ip * m + j, has_swap, true);
    set_where(flat, swap_pos, has_swap, false);
    // A block with neither move cannot progress: it goes to the caller as infeasible.
    at::Tensor stuck = has_fill.logical_or(has_swap).logical_not_();
    if (stuck.any().item<bool>()) {
      retire(stuck.nonzero().squeeze(1), true);
      at::Tensor keep = stuck.logical_not().nonzero().squeeze(1);
      if (keep.numel() == 0) break;
      keep_only(keep);
    }
  }
  return failed;
}

// The same moves as repair_batched, block by block in C++ (parallel over blocks): the same choices
// (first short row and column, first maximum in row-major order, gains in fp64), so the same masks.
at::Tensor repair_cpu(const at::Tensor& A, at::Tensor& mask, int64_t n, int64_t max_steps) {
  const int64_t B = A.size(0), m = A.size(1), mm = m * m;
  at::Tensor Ac = A.contiguous();
  at::Tensor failed = at::zeros({B}, mask.options());
  const float* pa = Ac.data_ptr<float>();
  bool* pm = mask.data_ptr<bool>();
  bool* pf = failed.data_ptr<bool>();
  constexpr double kNegInf = -std::numeric_limits<double>::infinity();
  at::parallel_for(0, B, grain_blocks(m), [&](int64_t b0, int64_t b1) {
    std::vector<int64_t> rc(m), cc(m);
    for (int64_t b = b0; b < b1; ++b) {
      const float* a = pa + b * mm;
      bool* k = pm + b * mm;
      std::fill(rc.begin(), rc.end(), 0);
      std::fill(cc.begin(), cc.end(), 0);
      for (int64_t r = 0; r < m; ++r)
        for (int64_t c = 0; c < m; ++c)
          if (k[r * m + c]) ++rc[r], ++cc[c];
      if (std::any_of(rc.begin(), rc.end(), [&](int64_t v) { return v > n; }) ||
          std::any_of(cc.begin(), cc.end(), [&](int64_t v) { return v > n; })) {
        pf[b] = true;
        continue;
      }
      for (int64_t step = 0;; ++step) {
        const int64_t i = std::find_if(rc.begin(), rc.end(), [&](int64_t v) { return v < n; }) - rc.begin();
        if (i == m) break;  // no short row, hence no short column
        if (step == max_steps) {
          pf[b] = true;
          break;
        }
        double best = kNegInf;
        int64_t pos = -1;
        for (int64_t r = 0; r < m; ++r) {
          if (rc[r] >= n) continue;
          for (int64_t c = 0; c < m; ++c)
            if (cc[c] < n && !k[r * m + c] && static_cast<double>(a[r * m + c]) > best)
              best = a[r * m + c], pos = r * m + c;
        }
        if (pos >= 0) {
          k[pos] = true;
          ++rc[pos / m];
          ++cc[pos % m];
          continue;
        }
        const int64_t j = std::find_if(cc.begin(), cc.end(), [&](int64_t v) { return v < n; }) - cc.begin();
        for (int64_t ip = 0; ip < m; ++ip) {
          if (k[ip * m + j]) continue;
          for (int64_t jp = 0; jp < m; ++jp) {
            if (!k[ip * m + jp] || k[i * m + jp]) continue;
            const double gain = (static_cast<double>(a[i * m + jp]) + static_cast<double>(a[ip * m + j])) -
                                static_cast<double>(a[ip * m + jp]);
            if (gain > best) best = gain, pos = ip * m + jp;
          }
        }
        if (pos < 0) {  // stuck: neither move exists
          pf[b] = true;
          break;
        }
        const int64_t ip = pos / m, jp = pos % m;
        k[i * m + jp] = true;
        k[ip * m + j] = true;
        k[ip * m + jp] = false;
        ++rc[i];
        ++cc[j];
      }
    }
  });
  return failed;
}

}  // namespace

at::Tensor solve_by_blocks(const at::Tensor& scores, NMPattern p,
                           const std::function<at::Tensor(const at::Tensor& A)>& solve_blocks) {
  REPRO_ASSERT(scores.dim() == 2 && p.m > 0 && p.n >= 0 && p.n <= p.m, "solve_by_blocks: bad scores or pattern");
  const int64_t rows = scores.size(0), cols = scores.size(1);
  if (rows % p.m != 0 || cols % p.m != 0)
    throw NotSupported(
        fmt::format("a transposable {}:{} mask needs both dimensions to be multiples of {}; got "
                    "scores of shape [{}, {}]",
                    p.n, p.m, p.m, rows, cols));
  if (p.n == 0 || p.n == p.m) return at::full({rows, cols}, p.n == p.m, scores.options().dtype(at::kBool));
  at::Tensor A = to_blocks(scores.to(at::kFloat), p.m);
  // NaN propagates through min and max, and an infinity is one of them: two reductions, no temporary.
  auto [lo, hi] = at::aminmax(A);
  if (!std::isfinite(lo.item<float>()) || !std::isfinite(hi.item<float>()))
    throw NumericalError(fmt::format("transposable {}:{} mask: the scores [{}, {}] contain NaN or infinite values", p.n,
                                     p.m, rows, cols));
  at::Tensor mask = solve_blocks(A);
  REPRO_ASSERT(mask.sizes() == A.sizes() && mask.scalar_type() == at::kBool, "solve_by_blocks: bad block mask");
  return from_blocks(mask, rows, cols);
}

at::Tensor to_blocks(const at::Tensor& x, int64_t m) {
  REPRO_ASSERT(x.dim() == 2 && m > 0 && x.size(0) % m == 0 && x.size(1) % m == 0,
               "to_blocks: both dimensions must be multiples of m");
  const int64_t R = x.size(0) / m, C = x.size(1) / m;
  return x.reshape({R, m, C, m}).permute({0, 2, 1, 3}).clone(at::MemoryFormat::Contiguous).view({R * C, m, m});
}

at::Tensor from_blocks(const at::Tensor& blocks, int64_t rows, int64_t cols) {
  check_blocks(blocks, "from_blocks");
  const int64_t m = blocks.size(1);
  REPRO_ASSERT(rows % m == 0 && cols % m == 0 && blocks.size(0) == (rows / m) * (cols / m),
               "from_blocks: block count does not match the shape");
  return blocks.reshape({rows / m, cols / m, m, m})
      .permute({0, 2, 1, 3})
      .clone(at::MemoryFormat::Contiguous)
      .view({rows, cols});
}

at::Tensor block_objective(const at::Tensor& A, const at::Tensor& mask) {
  check_blocks(A, "block_objective");
  return A.masked_fill(mask.logical_not(), 0).sum({1, 2}, /*keepdim=*/false, at::kDouble);
}

at::Tensor block_feasible(const at::Tensor& mask, int64_t n) {
  check_blocks(mask, "block_feasible");
  return mask.sum(2, false, at::kInt).eq(n).all(1).logical_and_(mask.sum(1, false, at::kInt).eq(n).all(1));
}

at::Tensor normalize_blocks(const at::Tensor& A) {
  check_blocks(A, "normalize_blocks");
  at::Tensor mx = at::amax(A, {1, 2}, /*keepdim=*/true), mn = at::amin(A, {1, 2}, /*keepdim=*/true);
  at::Tensor range = mx - mn;
  range.masked_fill_(range.le(0), 1.0);  // constant block: A - max = 0 everywhere
  return (A - mx).div_(range);
}

DykstraResult dykstra_transposable(const at::Tensor& A, int64_t n, const DykstraOptions& opts) {
  check_blocks(A, "dykstra_transposable");
  REPRO_ASSERT(A.scalar_type() == at::kFloat, "dykstra_transposable: scores must be fp32");
  REPRO_ASSERT(n > 0 && n <= A.size(1) && opts.tau > 0 && opts.iters >= 0 && opts.check_every > 0,
               "dykstra_transposable: bad n or options");
  if (A.is_cpu() && !opts.batched_tensor) return dykstra_cpu(A, n, opts);
  return dykstra_batched(A, n, opts);
}

at::Tensor greedy_round(const at::Tensor& priority, const at::Tensor& A, int64_t n, bool batched_tensor) {
  check_blocks(A, "greedy_round");
  REPRO_ASSERT(priority.sizes() == A.sizes() && priority.scalar_type() == at::kFloat && A.scalar_type() == at::kFloat &&
                   priority.device() == A.device(),
               "greedy_round: priority and A must be fp32 blocks of one shape on one device");
  REPRO_ASSERT(n >= 0 && n <= A.size(1), "greedy_round: bad n");
  if (A.is_cpu() && !batched_tensor) return greedy_round_cpu(priority, A, n);
  return greedy_round_batched(priority, A, n);
}

at::Tensor repair_transposable(const at::Tensor& A, at::Tensor& mask, int64_t n, int64_t max_steps,
                               bool batched_tensor) {
  check_blocks(A, "repair_transposable");
  REPRO_ASSERT(mask.sizes() == A.sizes() && mask.scalar_type() == at::kBool && mask.is_contiguous() &&
                   A.scalar_type() == at::kFloat && mask.device() == A.device(),
               "repair_transposable: mask must be contiguous bool blocks of A's shape, on A's device");
  REPRO_ASSERT(n >= 0 && n <= A.size(1) && max_steps >= 0, "repair_transposable: bad n or max_steps");
  if (A.is_cpu() && !batched_tensor) return repair_cpu(A, mask, n, max_steps);
  return repair_batched(A, mask, n, max_steps);
}

int64_t finish_transposable(const at::Tensor& A, at::Tensor& mask, int64_t n, int64_t max_steps, bool batched_tensor) {
  at::Tensor failed = repair_transposable(A, mask, n, max_steps, batched_tensor);
  at::Tensor idx = failed.nonzero().squeeze(1);
  const int64_t k = idx.numel();
  if (k > 0) mask.index_copy_(0, idx, exact_transposable_blocks(A.index_select(0, idx), n));
  return k;
}

}  // namespace repro
