#pragma once
// The score matrices a mask_quality row solves masks for: the linear weights of a model (or every
// 2-D tensor of a .safetensors file) scored by magnitude, or heavy-tailed random matrices. Each is
// described first (name, shape, identity) and loaded only when its turn comes, so a large model is
// never held in memory whole.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

namespace repro {

struct ScoreMatrix {
  std::string name;  // "model.layers.0.mlp.down_proj.weight", "random[1] 4096x14336"
  int64_t rows = 0, cols = 0;
  // What fixes the scores (file hash + tensor + score; or df + shape + seed): the matrix's part of
  // the reference cache key.
  std::string identity;
  std::function<at::Tensor()> load;  // -> [rows, cols] fp32 CPU, non-negative
};

// |Student-t(df)| entries, [rows, cols] fp32 CPU: |Z| sqrt(df / V) with Z ~ N(0, 1) and
// V ~ chi2(df) = 2 Gamma(df / 2), both drawn from a CPU generator seeded with `seed`.
at::Tensor student_t_magnitudes(int64_t rows, int64_t cols, double df, uint64_t seed);

// "4096x14336" -> {4096, 14336}; nullopt unless two positive integers joined by 'x'.
std::optional<std::pair<int64_t, int64_t>> parse_shape(const std::string& text);

// Less-than that compares runs of digits as numbers: "layers.2.x" before "layers.10.x".
bool natural_less(const std::string& a, const std::string& b);

// Scores of a weight W (any shape, any float dtype) as fp32: "magnitude" -> |W|.
at::Tensor weight_scores(const at::Tensor& W, const std::string& score);

// The 2-D tensors of a checkpoint (a model folder or one .safetensors file, see CheckpointReader)
// whose names pass `keep`, in natural name order, the first `limit` of them (0: all), scored by
// `score`. `checkpoint_identity` (a hash of the files) prefixes each matrix's identity.
std::vector<ScoreMatrix> checkpoint_matrices(const std::filesystem::path& path, const std::string& checkpoint_identity,
                                             const std::function<bool(const std::string&)>& keep,
                                             const std::string& score, int64_t limit);

}  // namespace repro
