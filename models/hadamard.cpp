#include "models/hadamard.h"

#include <ATen/ATen.h>

#include <cmath>
#include <map>
#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"

namespace repro {
namespace {

// Small factors are multiplied as explicit K x K matrices; above this a power-of-two-free part of
// a model dimension is not worth supporting.
constexpr int64_t kMaxSmallFactor = 256;

bool is_prime(int64_t q) {
  if (q < 2) return false;
  for (int64_t d = 2; d * d <= q; ++d)
    if (q % d == 0) return false;
  return true;
}

bool is_pow2(int64_t n) { return n > 0 && (n & (n - 1)) == 0; }

// Quadratic character of a mod the prime q: 0, 1 (a nonzero square) or -1.
int legendre(int64_t a, int64_t q) {
  a = ((a % q) + q) % q;
  if (a == 0) return 0;
  for (int64_t x = 1; x < q; ++x)
    if ((x * x) % q == a) return 1;
  return -1;
}

// Jacobsthal matrix Q[i][j] = chi(j - i) over GF(q), q prime.
std::vector<std::vector<int>> jacobsthal(int64_t q) {
  std::vector<std::vector<int>> Q(q, std::vector<int>(q));
  for (int64_t i = 0; i < q; ++i)
    for (int64_t j = 0; j < q; ++j) Q[i][j] = legendre(j - i, q);
  return Q;
}

// Paley construction I (q prime, q = 3 mod 4): H = I + [[0, 1^T], [-1, Q]], order q + 1.
// Paley construction II (q prime, q = 1 mod 4): C = [[0, 1^T], [1, Q]] (a symmetric conference
// matrix), H = C ⊗ [[1, -1], [-1, -1]] + I ⊗ [[1, 1], [1, -1]], order 2(q + 1).
// Returns the unnormalized +-1 matrix, or an empty vector when K has neither form.
std::vector<std::vector<int>> paley(int64_t K) {
  if (K % 4 != 0) return {};
  if (const int64_t q = K - 1; is_prime(q) && q % 4 == 3) {
    auto Q = jacobsthal(q);
    std::vector<std::vector<int>> H(K, std::vector<int>(K, 0));
    for (int64_t j = 1; j < K; ++j) H[0][j] = 1, H[j][0] = -1;
    for (int64_t i = 0; i < q; ++i)
      for (int64_t j = 0; j < q; ++j) H[i + 1][j + 1] = Q[i][j];
    for (int64_t i = 0; i < K; ++i) H[i][i] += 1;
    return H;
  }
  if (const int64_t q = K / 2 - 1; is_prime(q) && q % 4 == 1) {
    auto Q = jacobsthal(q);
    const int64_t m = q + 1;
    std::vector<std::vector<int>> C(m, std::vector<int>(m, 0));
    for (int64_t j = 1; j < m; ++j) C[0][j] = 1, C[j][0] = 1;
    for (int64_t i = 0; i < q; ++i)
      for (int64_t j = 0; j < q; ++j) C[i + 1][j + 1] = Q[i][j];
    const int A[2][2] = {{1, -1}, {-1, -1}}, B[2][2] = {{1, 1}, {1, -1}};
    std::vector<std::vector<int>> H(K, std::vector<int>(K, 0));
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < m; ++j)
        for (int a = 0; a < 2; ++a)
          for (int b = 0; b < 2; ++b) H[2 * i + a][2 * j + b] = C[i][j] * A[a][b] + (i == j ? B[a][b] : 0);
    return H;
  }
  return {};
}

bool has_small_hadamard(int64_t K) { return K == 1 || (!is_pow2(K) && !paley(K).empty()); }

// The normalized K x K factor, fp64 on the CPU, built once per K.
at::Tensor small_hadamard(int64_t K) {
  static std::mutex mu;
  static std::map<int64_t, at::Tensor> cache;
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = cache.find(K); it != cache.end()) return it->second;
  auto H = paley(K);
  REPRO_ASSERT(!H.empty(), fmt::format("no Paley Hadamard matrix of order {}", K));
  at::Tensor t = at::empty({K, K}, at::TensorOptions().dtype(at::kDouble));
  auto a = t.accessor<double, 2>();
  for (int64_t i = 0; i < K; ++i)
    for (int64_t j = 0; j < K; ++j) a[i][j] = H[i][j];
  REPRO_ASSERT(at::equal(at::matmul(t, t.t()), at::eye(K, t.options()) * static_cast<double>(K)),
               fmt::format("Paley matrix of order {} is not Hadamard", K));
  t = t / std::sqrt(static_cast<double>(K));
  cache.emplace(K, t);
  return t;
}

int64_t checked_factor(int64_t n, const std::string& what) {
  const int64_t K = hadamard_small_factor(n);
  if (K == 0)
    throw NotSupported(fmt::format("no Hadamard transform of size {} ({}): it must be K * 2^m with K = 1 or a Paley "
                                   "order (12, 20, 24, 28, 36, 44, ...; K <= {})",
                                   n, what, kMaxSmallFactor));
  return K;
}

}  // namespace

int64_t hadamard_small_factor(int64_t n) {
  if (n <= 0) return 0;
  for (int64_t K = 1; K <= std::min(n, kMaxSmallFactor); ++K)
    if (n % K == 0 && is_pow2(n / K) && has_small_hadamard(K)) return K;
  return 0;
}

bool hadamard_supported(int64_t n) { return hadamard_small_factor(n) != 0; }

at::Tensor hadamard_matrix(int64_t n, const std::string& what) {
  checked_factor(n, what);
  return hadamard_transform(at::eye(n, at::TensorOptions().dtype(at::kDouble)), what).t().contiguous();
}

at::Tensor hadamard_transform(const at::Tensor& x, const std::string& what) {
  REPRO_ASSERT(x.dim() >= 1, "hadamard_transform needs at least one dimension");
  const int64_t n = x.size(-1);
  const int64_t K = checked_factor(n, what), P = n / K;
  const at::ScalarType ct = x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  const int64_t rows = n == 0 ? 0 : x.numel() / n;
  at::Tensor y = x.to(ct).reshape({rows, K, P});
  // Sylvester H_P in natural order, one butterfly stage per bit: (a, b) -> (a + b, a - b).
  for (int64_t h = 1; h < P; h *= 2) {
    at::Tensor v = y.view({rows, K, P / (2 * h), 2, h});
    at::Tensor a = v.select(3, 0), b = v.select(3, 1);
    y = at::stack({a + b, a - b}, 3).view({rows, K, P});
  }
  if (K > 1) y = at::matmul(small_hadamard(K).to(y.device(), ct), y);  // (H_K ⊗ I_P) on [K, P]
  y = y * (1.0 / std::sqrt(static_cast<double>(P)));
  return y.view(x.sizes()).to(x.scalar_type());
}

at::Tensor hadamard_transform_groups(const at::Tensor& x, int64_t inner, const std::string& what) {
  const int64_t n = x.size(-1);
  REPRO_ASSERT(inner > 0 && n % inner == 0, fmt::format("group width {} does not divide {}", inner, n));
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end() - 1);
  shape.push_back(n / inner);
  shape.push_back(inner);
  at::Tensor t = hadamard_transform(x.reshape(shape).transpose(-1, -2), what);
  return t.transpose(-1, -2).reshape(x.sizes());
}

}  // namespace repro
