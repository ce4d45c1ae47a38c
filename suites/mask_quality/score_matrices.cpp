#include "suites/mask_quality/score_matrices.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <memory>
#include <string_view>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "core/error.h"
#include "models/checkpoint.h"

namespace repro {

at::Tensor student_t_magnitudes(int64_t rows, int64_t cols, double df, uint64_t seed) {
  REPRO_ASSERT(rows > 0 && cols > 0 && df > 0, "student_t_magnitudes: positive shape and df");
  at::Generator gen = at::detail::createCPUGenerator(seed);
  at::Tensor z = at::randn({rows, cols}, gen, at::TensorOptions().dtype(at::kFloat));
  at::Tensor v = at::_standard_gamma(at::full({rows, cols}, df / 2.0, at::kFloat), gen).mul_(2.0);
  // V = 0 would make an infinite score; fp32 gamma draws reach it only for tiny df.
  return z.abs_().mul_(v.clamp_min_(1e-30).reciprocal_().mul_(df).sqrt_());
}

std::optional<std::pair<int64_t, int64_t>> parse_shape(const std::string& text) {
  auto x = text.find('x');
  if (x == std::string::npos) return std::nullopt;
  auto number = [](std::string_view s) -> std::optional<int64_t> {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v <= 0) return std::nullopt;
    return v;
  };
  auto r = number(std::string_view(text).substr(0, x));
  auto c = number(std::string_view(text).substr(x + 1));
  if (!r || !c) return std::nullopt;
  return std::make_pair(*r, *c);
}

bool natural_less(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  auto digit = [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)) != 0; };
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      size_t ie = i, je = j;
      while (ie < a.size() && digit(a[ie])) ++ie;
      while (je < b.size() && digit(b[je])) ++je;
      // Compare the runs as numbers without overflow: strip leading zeros, then length, then text.
      std::string_view ra = std::string_view(a).substr(i, ie - i), rb = std::string_view(b).substr(j, je - j);
      ra.remove_prefix(std::min(ra.find_first_not_of('0'), ra.size()));
      rb.remove_prefix(std::min(rb.find_first_not_of('0'), rb.size()));
      if (ra.size() != rb.size()) return ra.size() < rb.size();
      if (ra != rb) return ra < rb;
      i = ie, j = je;
      continue;
    }
    if (a[i] != b[j]) return a[i] < b[j];
    ++i, ++j;
  }
  if ((a.size() - i) != (b.size() - j)) return (a.size() - i) < (b.size() - j);
  return a < b;  // equal up to leading zeros: any consistent order
}

at::Tensor weight_scores(const at::Tensor& W, const std::string& score) {
  REPRO_ASSERT(score == "magnitude", "unknown score '" + score + "' (the suite's parameter lists the choices)");
  return W.to(at::kFloat).abs();
}

std::vector<ScoreMatrix> checkpoint_matrices(const std::filesystem::path& path, const std::string& checkpoint_identity,
                                             const std::function<bool(const std::string&)>& keep,
                                             const std::string& score, int64_t limit) {
  auto ckpt = std::make_shared<CheckpointReader>(path);
  std::vector<std::string> names;
  for (const auto& n : ckpt->names())
    if (ckpt->info(n).shape.size() == 2 && keep(n)) names.push_back(n);
  std::sort(names.begin(), names.end(), natural_less);
  if (limit > 0 && static_cast<int64_t>(names.size()) > limit) names.resize(static_cast<size_t>(limit));
  std::vector<ScoreMatrix> out;
  for (const auto& n : names) {
    const auto& shape = ckpt->info(n).shape;
    ScoreMatrix m;
    m.name = n;
    m.rows = shape[0];
    m.cols = shape[1];
    m.identity = fmt::format("{}:{}:{}", checkpoint_identity, n, score);
    m.load = [ckpt, n, score] { return weight_scores(ckpt->get(n), score).contiguous(); };
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace repro
