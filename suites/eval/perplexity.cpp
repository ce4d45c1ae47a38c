#include "suites/eval/perplexity.h"

#include <ATen/ATen.h>

#include <cmath>

#include <ATen/core/grad_mode.h>
#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/timing.h"

namespace repro {

double window_nll_sum(const at::Tensor& logits, const at::Tensor& tokens) {
  const int64_t B = tokens.size(0), T = tokens.size(1);
  at::Tensor pred = logits.slice(1, 0, T - 1);  // [B, T-1, V]: position t predicts token t+1
  at::Tensor nll = at::cross_entropy_loss(pred.reshape({-1, pred.size(-1)}), tokens.slice(1, 1).reshape({-1}),
                                          /*weight=*/{}, at::Reduction::None)
                       .reshape({B, T - 1})
                       .mean(1);
  return nll.sum().item<double>();
}

PerplexityResult evaluate_perplexity(const CausalLM& model, const at::Tensor& windows, int64_t batch_size,
                                     RunContext& ctx, const std::string& label) {
  REPRO_ASSERT(windows.dim() == 2 && windows.size(1) >= 2, "perplexity windows must be [n, T] with T >= 2");
  at::NoGradGuard no_grad;
  const int64_t n = windows.size(0), T = windows.size(1);
  batch_size = std::max<int64_t>(1, batch_size);
  Stopwatch clock;
  auto progress = ctx.progress(label, n);
  double sum_window_nll = 0;  // sum over windows of the mean NLL of their T-1 predictions
  for (int64_t i = 0; i < n; i += batch_size) {
    at::Tensor b = windows.slice(0, i, std::min(n, i + batch_size)).to(ctx.device());
    sum_window_nll += window_nll_sum(model.forward(b), b);
    progress->advance(b.size(0));
  }
  progress->finish();
  PerplexityResult r;
  r.windows = n;
  r.tokens = n * T;
  r.mean_nll = sum_window_nll / static_cast<double>(n);
  r.ppl = std::exp(r.mean_nll);
  ctx.synchronize();
  r.seconds = clock.seconds();
  r.tokens_per_s = r.seconds > 0 ? static_cast<double>(r.tokens) / r.seconds : 0;
  if (!std::isfinite(r.ppl)) ctx.log().warn("{}: perplexity is {} (the model diverged?)", label, r.ppl);
  return r;
}

}  // namespace repro
