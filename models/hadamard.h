#pragma once
// Orthonormal Hadamard transforms for rotation-based quantization (QuaRot, arXiv 2404.00456 §3-4;
// SpinQuant, arXiv 2405.16406 §3). H_n is the Kronecker product H_K ⊗ H_P of a small Paley
// Hadamard matrix (K = 1, 12, 20, 28, ...) and the Sylvester matrix of a power of two P = 2^m,
// scaled by 1/sqrt(n), so that H_n H_n^T = I. The power-of-two factor runs as a fast Walsh-Hadamard
// transform (O(n log n) per vector), the small factor as a K x K matmul, the way QuaRot's
// `matmul_hadU` handles 11008 = 172 * 64 (spcl/QuaRot, fake_quant/hadamard_utils.py). Sizes
// without such a factorisation (K of the form 4 * 43 = 172 needs a Williamson matrix, which is not
// built here) are a NotSupported error naming the dimension.

#include <cstdint>
#include <string>

#include <ATen/core/Tensor.h>

namespace repro {

// The K of the factorisation n = K * 2^m used for H_n (the smallest K with a known Hadamard
// matrix), or 0 when n has none here.
int64_t hadamard_small_factor(int64_t n);
bool hadamard_supported(int64_t n);

// The explicit orthonormal H_n: [n, n] fp64 on the CPU (rows orthonormal). `what` names the
// dimension in the NotSupported error ("intermediate_size").
at::Tensor hadamard_matrix(int64_t n, const std::string& what = "dimension");

// y = H_n x for every vector along the last dimension: x [..., n] float (any device) -> same
// shape, dtype and device; computed in fp32 (fp64 inputs stay fp64). Equals
// at::matmul(x, hadamard_matrix(n).t()) up to rounding.
at::Tensor hadamard_transform(const at::Tensor& x, const std::string& what = "dimension");

// The same transform over the second-to-last dimension of x viewed as [..., G, d] with d = `inner`:
// x [..., G * d] -> mixes the G groups of every position, i.e. (H_G ⊗ I_d) x. QuaRot's "partial"
// online Hadamard over attention heads before o_proj.
at::Tensor hadamard_transform_groups(const at::Tensor& x, int64_t inner, const std::string& what = "dimension");

}  // namespace repro
