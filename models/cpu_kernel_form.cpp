#include "models/cpu_kernel_form.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>

#include "core/error.h"
#include "kernels/dense_gemm.h"
#include "kernels/sparse_lowrank.h"
#include "models/compressed_linear.h"

namespace repro {

namespace {

bool on_cpu(const at::Tensor& t) { return !t.defined() || t.device().is_cpu(); }

std::atomic<bool> g_enabled{true};

// Packed forms by layer. Keyed by the owner (control block) of the layer's shared_ptr, so a new layer
// at a freed layer's address never finds the old entry; expired entries are dropped on insertion.
struct FormCache {
  struct Entry {
    CpuKernelForm::SourceKey key;  // the tensors the form was built from (or found unsupported)
    std::shared_ptr<const CpuKernelForm> form;  // nullptr: not supported
  };
  std::mutex mutex;
  std::map<std::weak_ptr<const CompressedLinear>, Entry, std::owner_less<std::weak_ptr<const CompressedLinear>>>
      entries;
};

FormCache& form_cache() {
  static FormCache cache;
  return cache;
}

// Whether the input and the layer allow the kernels at all (before any packing).
bool input_allows_kernels(const CompressedLinear& c, const at::Tensor& x) {
  if (!g_enabled || !x.defined() || !x.device().is_cpu() || x.scalar_type() != at::kFloat || x.dim() == 0)
    return false;
  if (x.size(-1) != c.in_features() || x.numel() / std::max<int64_t>(1, x.size(-1)) > kCpuKernelMaxRows) return false;
  if (at::GradMode::is_enabled()) {
    // Training through the layer needs autograd: the torch path.
    for (const at::Tensor* t : {&x, &c.sparse_values(), &c.quant().scales, &c.quant().zeros, &c.U(), &c.V()})
      if (t->defined() && t->requires_grad()) return false;
  }
  return CpuKernelForm::format_supported(c);
}

// The current packed form of c (built or rebuilt as needed); nullptr when c's format is not taken.
std::shared_ptr<const CpuKernelForm> current_form(const std::shared_ptr<const CompressedLinear>& c) {
  FormCache& cache = form_cache();
  CpuKernelForm::SourceKey key = CpuKernelForm::source_key(*c);
  std::lock_guard<std::mutex> lock(cache.mutex);
  auto it = cache.entries.find(c);
  if (it != cache.entries.end() && it->second.key == key) return it->second.form;
  if (it == cache.entries.end())
    for (auto e = cache.entries.begin(); e != cache.entries.end();) e = e->first.expired() ? cache.entries.erase(e) : ++e;
  FormCache::Entry entry{std::move(key), CpuKernelForm::build(*c)};
  auto form = entry.form;
  cache.entries[c] = std::move(entry);
  return form;
}

void add_key(CpuKernelForm::SourceKey& key, const at::Tensor& t) {
  if (!t.defined()) {
    key.emplace_back(nullptr, -1);
    return;
  }
  // Inference tensors carry no version counter; they cannot be changed in place outside
  // inference mode, so the storage identifies them.
  key.emplace_back(t.data_ptr(), t.is_inference() ? 0 : t._version());
}

}  // namespace

bool CpuKernelForm::format_supported(const CompressedLinear& c) {
  const bool lr_ok = !c.has_low_rank() || (on_cpu(c.U()) && on_cpu(c.V()));
  if (!lr_ok) return false;
  if (c.has_quant()) {
    const QuantCodes& q = c.quant();
    if (c.has_sparse() || q.g_idx.defined()) return false;
    if (!on_cpu(q.codes) || !on_cpu(q.scales) || !on_cpu(q.zeros)) return false;
    const int64_t group = q.group_size > 0 ? q.group_size : c.in_features();
    const int64_t ng = (c.in_features() + group - 1) / group;
    return kernels::lowbit_supported(q.bits, c.in_features(), group) && q.scales.size(1) == ng &&
           q.codes.scalar_type() == at::kByte;
  }
  if (c.has_sparse()) return c.in_features() % 4 == 0 && on_cpu(c.sparse_values()) && on_cpu(c.mask());
  return false;
}

CpuKernelForm::SourceKey CpuKernelForm::source_key(const CompressedLinear& c) {
  SourceKey key;
  add_key(key, c.quant().codes);
  add_key(key, c.quant().scales);
  add_key(key, c.quant().zeros);
  add_key(key, c.sparse_values());
  add_key(key, c.mask());
  add_key(key, c.U());
  add_key(key, c.V());
  return key;
}

std::shared_ptr<const CpuKernelForm> CpuKernelForm::build(const CompressedLinear& c) {
  if (!format_supported(c)) return nullptr;
  auto f = std::make_shared<CpuKernelForm>();
  f->out_ = c.out_features();
  f->in_ = c.in_features();
  f->source_ = source_key(c);
  if (c.has_quant()) {
    const QuantCodes& q = c.quant();
    at::Tensor codes = q.codes.contiguous();
    at::Tensor scales = q.scales.to(at::kFloat).contiguous(), zeros = q.zeros.to(at::kFloat).contiguous();
    const int64_t group = q.group_size > 0 ? q.group_size : f->in_;
    f->lowbit_ = kernels::pack_lowbit(codes.data_ptr<uint8_t>(), scales.data_ptr<float>(), zeros.data_ptr<float>(),
                                      f->out_, f->in_, q.bits, group);
  } else {
    at::Tensor values = c.sparse_values().to(at::kFloat).contiguous();
    at::Tensor mask = c.mask().to(at::kBool).contiguous();
    at::Tensor v = at::empty({f->out_, f->in_ / 2}, at::kFloat);
    at::Tensor idx = at::empty({f->out_, f->in_ / 2}, at::kByte);
    if (!kernels::sparse24_from_dense(values.data_ptr<float>(), mask.data_ptr<bool>(), f->out_, f->in_,
                                      v.data_ptr<float>(), idx.data_ptr<uint8_t>()))
      return nullptr;  // more than 2 of 4 kept somewhere: not 2:4
    f->sparse_ = kernels::pack_sparse24(v.data_ptr<float>(), idx.data_ptr<uint8_t>(), f->out_, f->in_);
  }
  if (c.has_low_rank()) {
    f->U_ = c.U().to(at::kFloat).contiguous();
    f->V_ = c.V().to(at::kFloat).contiguous();
  }
  return f;
}

bool CpuKernelForm::is_current(const CompressedLinear& c) const { return source_ == source_key(c); }

at::Tensor CpuKernelForm::forward(const at::Tensor& x) const {
  REPRO_ASSERT(x.device().is_cpu() && x.scalar_type() == at::kFloat && x.size(-1) == in_,
               "CpuKernelForm::forward: x must be [..., in] fp32 on the CPU");
  at::Tensor x2 = x.reshape({-1, in_}).contiguous();
  const int64_t rows = x2.size(0);
  std::vector<int64_t> out_shape(x.sizes().begin(), x.sizes().end());
  out_shape.back() = out_;
  at::Tensor y = at::empty({rows, out_}, x.options());
  const float* xp = x2.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  if (lowbit_) kernels::lowbit_gemm(*lowbit_, xp, rows, in_, yp, out_);
  else kernels::sparse24_gemm(*sparse_, xp, rows, in_, yp, out_);
  if (U_.defined())
    kernels::lowrank_gemm_add(U_.data_ptr<float>(), V_.data_ptr<float>(), out_, in_, U_.size(1), xp, rows, in_, yp,
                              out_);
  return y.reshape(out_shape);
}

void set_cpu_kernels_enabled(bool on) { g_enabled = on; }
bool cpu_kernels_enabled() { return g_enabled; }

bool uses_cpu_kernels(const std::shared_ptr<const CompressedLinear>& c, const at::Tensor& x) {
  return c && input_allows_kernels(*c, x) && current_form(c) != nullptr;
}

at::Tensor cpu_kernel_forward(const std::shared_ptr<const CompressedLinear>& c, const at::Tensor& x) {
  if (!c || !input_allows_kernels(*c, x)) return at::Tensor();
  std::shared_ptr<const CpuKernelForm> form = current_form(c);
  return form ? form->forward(x) : at::Tensor();
}

at::Tensor cpu_dense_forward(const at::Tensor& weight, const at::Tensor& x) {
  if (!g_enabled || !x.defined() || !weight.defined() || x.dim() == 0 || weight.dim() != 2) return at::Tensor();
  if (!x.device().is_cpu() || !weight.device().is_cpu() || x.scalar_type() != at::kFloat ||
      weight.scalar_type() != at::kFloat || weight.stride(1) != 1)
    return at::Tensor();
  const int64_t in = weight.size(1), out = weight.size(0);
  if (in == 0 || x.size(-1) != in) return at::Tensor();
  const int64_t rows = x.numel() / in;
  if (rows == 0 || rows > kCpuKernelMaxRows) return at::Tensor();
  if (at::GradMode::is_enabled() && (x.requires_grad() || weight.requires_grad())) return at::Tensor();
  const at::Tensor xc = x.contiguous();
  std::vector<int64_t> sizes = x.sizes().vec();
  sizes.back() = out;
  at::Tensor y = at::empty(sizes, x.options());
  kernels::dense_gemm(xc.data_ptr<float>(), rows, in, weight.data_ptr<float>(), out, in, weight.stride(0),
                      y.data_ptr<float>(), out, false);
  return y;
}

const char* CpuKernelForm::kind() const { return lowbit_ ? "lowbit" : "sparse24"; }

int64_t CpuKernelForm::bytes_read() const { return lowbit_ ? lowbit_->bytes_read() : sparse_->bytes_read(); }

}  // namespace repro
