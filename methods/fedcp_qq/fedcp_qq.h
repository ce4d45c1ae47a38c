#pragma once
// The order-statistics math of FedCP-QQ (Humbert et al. 2023, arXiv 2302.02113), exposed for tests.

#include <cstdint>

namespace repro {

// P(Bin(n, p) >= l).
double binomial_upper_tail(int64_t n, double p, int64_t l);
// Coverage P(V_test <= QQ) of the k-th smallest of m clients' l-th smallest of n iid continuous
// scores (distribution-free).
double qq_coverage(int64_t n, int64_t m, int64_t l, int64_t k);

}  // namespace repro
