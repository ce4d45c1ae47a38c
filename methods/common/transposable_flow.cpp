#include "methods/common/transposable_flow.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"

namespace repro {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Min-cost flow on one m x m block, reusing its buffers from block to block. Nodes: the source,
// rows, columns, the sink. Residual edges: source -> row i while row i keeps fewer than n; row i ->
// column j while (i, j) is not kept (cost w_ij); column j -> row i while (i, j) is kept (cost
// -w_ij); column j -> sink while column j keeps fewer than n. (Edges back into the source or out
// of the sink never lie on a shortest source-sink path, so Dijkstra leaves them out.)
class BlockFlow {
 public:
  explicit BlockFlow(int64_t m)
      : m_(static_cast<int>(m)),
        w_(m * m),
        kept_(m * m),
        pr_(m),
        pc_(m),
        dr_(m),
        dc_(m),
        par_r_(m),
        par_c_(m),
        done_r_(m),
        done_c_(m),
        rf_(m),
        cf_(m) {}

  // a: m * m scores (row-major); out: m * m flags, set to the optimal mask.
  void solve(const float* a, bool* out, int n) {
    const int m = m_;
    float mx = a[0];
    for (int k = 1; k < m * m; ++k) mx = std::max(mx, a[k]);
    for (int k = 0; k < m * m; ++k) w_[k] = static_cast<double>(mx) - static_cast<double>(a[k]);
    std::fill(kept_.begin(), kept_.end(), 0);
    std::fill(pr_.begin(), pr_.end(), 0.0);
    std::fill(pc_.begin(), pc_.end(), 0.0);
    std::fill(rf_.begin(), rf_.end(), 0);
    std::fill(cf_.begin(), cf_.end(), 0);
    pt_ = 0;
    for (int unit = 0; unit < n * m; ++unit) augment(n);
    for (int k = 0; k < m * m; ++k) out[k] = kept_[k] != 0;
  }

 private:
  // One shortest augmenting path (Dijkstra on reduced costs, dense, stopped at the sink), then
  // the potential update and the augmentation of one unit.
  void augment(int n) {
    const int m = m_;
    for (int i = 0; i < m; ++i) {
      dr_[i] = rf_[i] < n ? -pr_[i] : kInf;  // source potential is 0
      par_r_[i] = -1;
      done_r_[i] = 0;
    }
    std::fill(dc_.begin(), dc_.end(), kInf);
    std::fill(done_c_.begin(), done_c_.end(), 0);
    double dt = kInf;
    int par_t = -1;
    for (;;) {
      double best = dt;
      int kind = 2, idx = -1;  // 0: row, 1: column, 2: the sink
      for (int i = 0; i < m; ++i)
        if (!done_r_[i] && dr_[i] < best) best = dr_[i], kind = 0, idx = i;
      for (int j = 0; j < m; ++j)
        if (!done_c_[j] && dc_[j] < best) best = dc_[j], kind = 1, idx = j;
      if (kind == 2) break;
      if (kind == 0) {
        const int i = idx;
        done_r_[i] = 1;
        const double base = dr_[i] + pr_[i];
        const double* wi = w_.data() + static_cast<size_t>(i) * m;
        const uint8_t* ki = kept_.data() + static_cast<size_t>(i) * m;
        for (int j = 0; j < m; ++j) {
          if (done_c_[j] || ki[j]) continue;
          const double nd = base + wi[j] - pc_[j];
          if (nd < dc_[j]) dc_[j] = nd, par_c_[j] = i;
        }
      } else {
        const int j = idx;
        done_c_[j] = 1;
        const double base = dc_[j] + pc_[j];
        for (int i = 0; i < m; ++i) {
          if (done_r_[i] || !kept_[static_cast<size_t>(i) * m + j]) continue;
          const double nd = base - w_[static_cast<size_t>(i) * m + j] - pr_[i];
          if (nd < dr_[i]) dr_[i] = nd, par_r_[i] = j;
        }
        if (cf_[j] < n && base - pt_ < dt) dt = base - pt_, par_t = j;
      }
    }
    REPRO_ASSERT(par_t >= 0, "exact transposable solver: no augmenting path (a bug: n <= m always has one)");
    for (int i = 0; i < m; ++i) pr_[i] += std::min(dr_[i], dt);
    for (int j = 0; j < m; ++j) pc_[j] += std::min(dc_[j], dt);
    pt_ += dt;
    // Walk back from the sink: the path alternates new entries (row -> column) and dropped ones.
    int j = par_t;
    ++cf_[j];
    for (;;) {
      const int i = par_c_[j];
      kept_[static_cast<size_t>(i) * m + j] = 1;
      const int prev = par_r_[i];
      if (prev < 0) {
        ++rf_[i];
        break;
      }
      kept_[static_cast<size_t>(i) * m + prev] = 0;
      j = prev;
    }
  }

  int m_;
  std::vector<double> w_;           // [m, m] costs max(A) - A >= 0
  std::vector<uint8_t> kept_;       // [m, m] current flow (the mask)
  std::vector<double> pr_, pc_;     // node potentials of rows and columns
  double pt_ = 0;                   // sink potential (the source's stays 0)
  std::vector<double> dr_, dc_;     // Dijkstra distances (reduced costs)
  std::vector<int> par_r_, par_c_;  // row: the column it was reached from (-1: the source); column: its row
  std::vector<uint8_t> done_r_, done_c_;
  std::vector<int> rf_, cf_;  // kept per row / column
};

}  // namespace

at::Tensor exact_transposable_blocks(const at::Tensor& A, int64_t n) {
  REPRO_ASSERT(A.dim() == 3 && A.size(1) == A.size(2) && A.scalar_type() == at::kFloat,
               "exact_transposable_blocks: expected fp32 blocks [B, m, m]");
  const int64_t B = A.size(0), m = A.size(1);
  REPRO_ASSERT(n >= 0 && n <= m, "exact_transposable_blocks: bad n");
  at::Tensor a = A.to(at::kCPU).contiguous();
  at::Tensor mask = at::empty({B, m, m}, a.options().dtype(at::kBool));
  if (n == 0 || n == m) return mask.fill_(n == m).to(A.device());
  const float* pa = a.data_ptr<float>();
  bool* out = mask.data_ptr<bool>();
  at::parallel_for(0, B, std::max<int64_t>(1, 256 / m), [&](int64_t b0, int64_t b1) {
    BlockFlow flow(m);
    for (int64_t b = b0; b < b1; ++b) flow.solve(pa + b * m * m, out + b * m * m, static_cast<int>(n));
  });
  return mask.to(A.device());
}

at::Tensor transposable_patterns(int64_t n, int64_t m) {
  if (m < 1 || m > 4 || n < 0 || n > m)
    throw NotSupported(fmt::format("enumerating transposable {}:{} block patterns needs 0 <= n <= m <= 4", n, m));
  // Rows as m-bit words, column 0 the most significant bit, in ascending order.
  std::vector<int> rows;
  for (int r = 0; r < (1 << m); ++r)
    if (__builtin_popcount(static_cast<unsigned>(r)) == n) rows.push_back(r);
  std::vector<std::vector<int>> found;
  std::vector<int> pick(m), cols(m, 0);
  auto rec = [&](auto&& self, int i) -> void {
    if (i == m) {
      if (std::all_of(cols.begin(), cols.end(), [&](int c) { return c == n; })) found.push_back(pick);
      return;
    }
    for (int r : rows) {
      bool ok = true;
      for (int j = 0; j < m; ++j)
        if ((r >> (m - 1 - j)) & 1) ok = ok && cols[j] < n;
      if (!ok) continue;
      for (int j = 0; j < m; ++j) cols[j] += (r >> (m - 1 - j)) & 1;
      pick[i] = r;
      self(self, i + 1);
      for (int j = 0; j < m; ++j) cols[j] -= (r >> (m - 1 - j)) & 1;
    }
  };
  rec(rec, 0);
  const int64_t K = static_cast<int64_t>(found.size());
  at::Tensor out = at::zeros({K, m, m}, at::kBool);
  auto acc = out.accessor<bool, 3>();
  for (int64_t k = 0; k < K; ++k)
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < m; ++j) acc[k][i][j] = (found[k][i] >> (m - 1 - j)) & 1;
  return out;
}

at::Tensor enumerate_transposable_blocks(const at::Tensor& A, int64_t n) {
  REPRO_ASSERT(A.dim() == 3 && A.size(1) == A.size(2), "enumerate_transposable_blocks: expected blocks [B, m, m]");
  const int64_t B = A.size(0), m = A.size(1);
  at::Tensor patterns = transposable_patterns(n, m).to(A.device());
  const int64_t K = patterns.size(0);
  at::Tensor value = A.reshape({B, m * m}).to(at::kDouble).matmul(patterns.view({K, m * m}).to(at::kDouble).t());
  return patterns.index_select(0, value.argmax(1));
}

}  // namespace repro
