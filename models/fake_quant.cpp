#include "models/fake_quant.h"

#include <ATen/ATen.h>

#include <fmt/format.h>

#include "core/error.h"

namespace repro {

std::string FakeQuantSpec::describe() const {
  if (!on()) return "off";
  std::string g = group > 0 ? fmt::format(",g{}", group) : "";
  return fmt::format("{}bit({}{},clip={})", bits, asym ? "asym" : "sym", g, clip);
}

at::Tensor fake_quant(const at::Tensor& x, const FakeQuantSpec& spec) {
  if (!spec.on()) return x;
  REPRO_ASSERT(spec.bits >= 1 && spec.clip > 0 && spec.clip <= 1, "fake_quant: bad spec " + spec.describe());
  const int64_t n = x.size(-1);
  const int64_t g = spec.group > 0 ? spec.group : n;
  REPRO_ASSERT(n % g == 0, fmt::format("fake_quant: group {} does not divide the last dimension {}", g, n));
  at::Tensor v = x.to(at::kFloat).reshape({-1, n / g, g});  // [rows, groups, g]
  at::Tensor out;
  if (!spec.asym) {
    const double maxq = static_cast<double>((int64_t{1} << (spec.bits - 1)) - 1);
    at::Tensor m = at::maximum(v.amin(-1, true).neg(), v.amax(-1, true)).clamp_min(0) * spec.clip;
    at::Tensor s = at::where(m > 0, m / maxq, at::ones_like(m));
    out = at::clamp(at::round(v / s), -maxq - 1, maxq) * s;
  } else {
    const double maxq = static_cast<double>((int64_t{1} << spec.bits) - 1);
    at::Tensor lo = v.amin(-1, true), hi = v.amax(-1, true);
    if (spec.group <= 0) lo = lo.clamp_max(0), hi = hi.clamp_min(0);  // per-token: the range holds 0
    lo = lo * spec.clip;
    hi = hi * spec.clip;
    at::Tensor flat = at::eq(lo, hi);  // a constant group: widen to hold 0, so it stays exact
    lo = at::where(flat, lo.clamp_max(0), lo);
    hi = at::where(flat, hi.clamp_min(0), hi);
    at::Tensor zero_range = at::logical_and(at::eq(lo, 0), at::eq(hi, 0));
    lo = at::where(zero_range, at::full_like(lo, -1), lo);
    hi = at::where(zero_range, at::full_like(hi, 1), hi);
    at::Tensor s = (hi - lo) / maxq;
    at::Tensor z = at::round(-lo / s);
    out = (at::clamp(at::round(v / s) + z, 0, maxq) - z) * s;
  }
  return out.reshape(x.sizes()).to(x.scalar_type());
}

at::Tensor fake_quant_kv(const at::Tensor& t, const FakeQuantSpec& spec) {
  if (!spec.on()) return t;
  REPRO_ASSERT(t.dim() == 4, "fake_quant_kv expects [B, H, T, hd]");
  const int64_t B = t.size(0), H = t.size(1), T = t.size(2), hd = t.size(3);
  if (spec.group > 0 && hd % spec.group == 0) return fake_quant(t, spec);  // groups within a head
  at::Tensor flat = t.transpose(1, 2).reshape({B, T, H * hd});
  return fake_quant(flat, spec).view({B, T, H, hd}).transpose(1, 2);
}

}  // namespace repro
